package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"shop/e2e/harness"
	"shop/tools/trace/otlp"
)

// spans is the OTLP receiver of this package's system: its sidecars and
// apps export every span here (TestMain).
var spans = &otlp.Store{}

// startCollector serves the OTLP/HTTP receiver on a free loopback port
// and returns its base URL and a function that stops it.
func startCollector() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: otlp.Handler(spans.Add), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// service is the shop's name of a span's service: the run's app ids
// carry a suffix.
func service(s otlp.Span) string {
	for name, id := range sys.AppIDs {
		if s.Service == id {
			return name
		}
	}
	return s.Service
}

// TestOrderIsOneTrace places one order and checks that its whole saga,
// from the gateway through ordersvc, inventorysvc and back, is one trace:
// every span has its parent in the trace but the gateway's root, and the
// apps' own spans (the order's request, the reservation step, the
// payment charge, the publishes) are inside it.
func TestOrderIsOneTrace(t *testing.T) {
	_, token := newCustomer(t)
	sku := newProduct(t, 5)
	o := placeOrder(t, token, orderBody("tok_visa", line{sku, 1}))
	awaitOrder(t, token, o.ID, "confirmed", "charged")
	awaitStock(t, sku, 4, 0, 1)

	// Each service's own span, and the services whose sidecars must show.
	want := map[string]string{
		"POST /orders":                      "ordersvc",
		"publish " + sys.Topic("orders"):    "ordersvc",
		"inventory.reserve":                 "inventorysvc",
		"publish " + sys.Topic("inventory"): "inventorysvc",
		"payment.charge":                    "ordersvc",
		"inventory.commit":                  "inventorysvc",
	}
	var trace []otlp.Span
	err := harness.Eventually(context.Background(), 45*time.Second, func() error {
		all := spans.Spans()
		ids := otlp.TraceIDs(all, o.ID)
		if len(ids) != 1 {
			return fmt.Errorf("order %s is in %d traces %v; want 1", o.ID, len(ids), ids)
		}
		trace = otlp.Trace(all, ids[0])
		byID := map[string]bool{}
		for _, s := range trace {
			byID[s.SpanID] = true
		}
		roots := 0
		for _, s := range trace {
			switch {
			case s.ParentID == "":
				roots++
				if service(s) != "gateway" {
					return fmt.Errorf("root span %s of %s; want the gateway's", s.Name, service(s))
				}
			case !byID[s.ParentID]:
				return fmt.Errorf("span %s of %s: parent %s not (yet) in the trace", s.Name, service(s), s.ParentID)
			}
		}
		if roots != 1 {
			return fmt.Errorf("%d root spans; want 1", roots)
		}
		for name, svc := range want {
			found := false
			for _, s := range trace {
				found = found || (s.Name == name && service(s) == svc)
			}
			if !found {
				return fmt.Errorf("no span %q of %s yet", name, svc)
			}
		}
		seen := map[string]bool{}
		for _, s := range trace {
			seen[service(s)] = true
		}
		for _, svc := range []string{"gateway", "ordersvc", "inventorysvc"} {
			if !seen[svc] {
				return fmt.Errorf("no span of %s", svc)
			}
		}
		return nil
	})
	named := make([]otlp.Span, len(trace))
	for i, s := range trace {
		named[i] = s
		named[i].Service = service(s) // the sidecars' app ids without the run's suffix
	}
	tree := otlp.Tree(named)
	if err != nil {
		t.Fatalf("%v\nthe trace so far:\n%s", err, tree)
	}
	// Printed for the reader (go test -v): service, span, duration.
	fmt.Printf("trace of order %s (%d spans):\n%s", o.ID, len(trace), tree)
}

// scrape reads the Prometheus text at url: each series (name and labels as
// written) and its value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// TestMetricsMoveWithAnOrder scrapes every app's metrics before and after
// one confirmed order and checks that the counters of what it did moved.
// Other tests run meanwhile, so a counter must have moved at least as
// much as this order moves it.
func TestMetricsMoveWithAnOrder(t *testing.T) {
	before := map[string]map[string]float64{}
	for _, svc := range harness.Services {
		before[svc] = scrape(t, sys.AppMetricsURL(svc))
	}
	_, token := newCustomer(t)
	sku := newProduct(t, 5)
	o := placeOrder(t, token, orderBody("tok_visa", line{sku, 1}))
	awaitOrder(t, token, o.ID, "confirmed", "charged")
	awaitStock(t, sku, 4, 0, 1)
	want := map[string][]string{
		"ordersvc": {
			`orders_outcomes_total{reason="",status="confirmed"}`,
			`orders_saga_duration_seconds_count{status="confirmed"}`,
			`http_server_request_duration_seconds_count{method="POST",route="/orders",status="202"}`,
			`http_server_request_duration_seconds_count{method="POST",route="/events/inventory",status="200"}`,
		},
		"inventorysvc": {
			`inventory_reservations_total{status="reserved"}`,
			`inventory_reservations_total{status="committed"}`,
			`inventory_outcomes_published_total`,
			`http_server_request_duration_seconds_count{method="POST",route="/events/orders",status="200"}`,
		},
		"usersvc": {
			`http_server_request_duration_seconds_count{method="POST",route="/auth/token",status="200"}`,
		},
	}
	err := harness.Eventually(context.Background(), 30*time.Second, func() error {
		for svc, series := range want {
			after := scrape(t, sys.AppMetricsURL(svc))
			for _, s := range series {
				if after[s] < before[svc][s]+1 {
					return fmt.Errorf("%s: %s = %v, was %v; want it up by at least 1", svc, s, after[s], before[svc][s])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// ordersvc verified the customer's token: its keys came from usersvc.
	if m := scrape(t, sys.AppMetricsURL("ordersvc")); m[`auth_jwks_refreshes_total{result="ok"}`] < 1 {
		t.Errorf("ordersvc auth_jwks_refreshes_total{result=\"ok\"} = %v; want at least 1", m[`auth_jwks_refreshes_total{result="ok"}`])
	}
}
