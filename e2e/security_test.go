package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"shop/e2e/harness"
)

// attack is one request an attacker sends, and what must not follow.
type attack struct {
	name string
	// send does the attack and returns the status it got (0: no answer).
	send func(t *testing.T) int
}

// refused reports whether status is a refusal: a 4xx, or no answer.
func refused(status int) bool { return status == 0 || status/100 == 4 }

// raw sends a request straight to a URL, with optional headers, and
// returns its status and body.
func raw(t *testing.T, method, url, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b)
}

// invoke sends a request through the gateway, as any client can.
func invoke(t *testing.T, method, svc, path, body string) int {
	t.Helper()
	resp, err := sys.Do(context.Background(), harness.Request{Method: method, Service: svc, Path: path, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status/100 == 5 {
		t.Errorf("%s %s %s: %d %s; a 5xx is a bug", method, svc, path, resp.Status, resp.Body)
	}
	return resp.Status
}

// cloudEvent is an event as the sidecar delivers it, claiming to come from
// the app that publishes its topic.
func cloudEvent(source, topic string, data string) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":"forged-%d","source":%q,"type":"com.dapr.event.sent","topic":%q,"pubsubname":"pubsub","datacontenttype":"application/json","data":%s}`,
		time.Now().UnixNano(), sys.AppIDs[source], sys.Topic(topic), data)
}

// deadLetters is the body of a service's GET /dead-letters.
func deadLetters(t *testing.T, svc string) string {
	t.Helper()
	resp := call(t, harness.Request{Method: http.MethodGet, Service: svc, Path: "/dead-letters", Header: bearer(adminToken(t))})
	if resp.Status != http.StatusOK {
		t.Fatalf("GET %s /dead-letters = %d %s", svc, resp.Status, resp.Body)
	}
	return string(resp.Body)
}

// TestAttacksAreRefused replays what anyone who reaches the gateway, or
// any port of the system, could do to a system that trusted its network,
// and checks each is refused with the state read back unchanged.
func TestAttacksAreRefused(t *testing.T) {
	ctx := context.Background()
	_, customer := newCustomer(t)

	// The victim product, and the attacker's own orders: one that inventory
	// rejects (more than the stock), one confirmed.
	sku := newProduct(t, 5)
	rejected := placeOrder(t, customer, orderBody("tok_visa", line{SKU: sku, Quantity: 6}))
	awaitOrder(t, customer, rejected.ID, "rejected", "")
	confirmed := placeOrder(t, customer, orderBody("tok_visa", line{SKU: sku, Quantity: 2}))
	awaitOrder(t, customer, confirmed.ID, "confirmed", "charged")
	awaitStock(t, sku, 3, 0, 2)
	marker := uniqueID("forged-dead-letter")
	ordersDead, inventoryDead := deadLetters(t, "ordersvc"), deadLetters(t, "inventorysvc")

	lockStock := fmt.Sprintf(`{"type":"order.created","order_id":%q,"items":[{"sku":%q,"quantity":3}]}`, uniqueID("evil"), sku)
	fakeReserved := fmt.Sprintf(`{"type":"inventory.reserved","order_id":%q}`, rejected.ID)
	fakeCancel := fmt.Sprintf(`{"type":"order.cancelled","order_id":%q,"reason":"customer"}`, confirmed.ID)
	fakeDead := fmt.Sprintf(`{"type":"order.created","order_id":%q}`, marker)

	gateway := sys.Gateway
	sidecarHTTP := func(svc string) string { return fmt.Sprintf("http://127.0.0.1:%d", sys.Port(svc+"-dapr")) }

	attacks := []attack{
		// The gateway serves service invocation only.
		{"gateway: read every secret", func(t *testing.T) int {
			s, _ := raw(t, http.MethodGet, gateway+"/v1.0/secrets/secretstore/bulk", "", nil)
			return s
		}},
		{"gateway: read the signing key", func(t *testing.T) int {
			s, _ := raw(t, http.MethodGet, gateway+"/v1.0/secrets/secretstore/jwt-signing-key", "", nil)
			return s
		}},
		{"gateway: shut it down", func(t *testing.T) int {
			s, _ := raw(t, http.MethodPost, gateway+"/v1.0/shutdown", "", nil)
			return s
		}},
		{"gateway: read its metadata", func(t *testing.T) int {
			s, _ := raw(t, http.MethodGet, gateway+"/v1.0/metadata", "", nil)
			return s
		}},
		{"gateway: write state", func(t *testing.T) int {
			s, _ := raw(t, http.MethodPost, gateway+"/v1.0/state/inventory-state", `[{"key":"x","value":1}]`, nil)
			return s
		}},
		{"gateway: publish an order event", func(t *testing.T) int {
			s, _ := raw(t, http.MethodPost, gateway+"/v1.0/publish/pubsub/"+sys.Topic("orders"), lockStock, nil)
			return s
		}},
		{"gateway gRPC: read a secret", func(t *testing.T) int {
			c, err := dapr.NewClientWithAddressContext(ctx, sys.SidecarGRPC("gateway"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.GetSecret(ctx, "secretstore", "jwt-signing-key", nil); err == nil {
				return http.StatusOK
			}
			return http.StatusForbidden
		}},
		{"gateway gRPC: shut it down", func(t *testing.T) int {
			c, err := dapr.NewClientWithAddressContext(ctx, sys.SidecarGRPC("gateway"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Shutdown(ctx); err == nil {
				return http.StatusOK
			}
			return http.StatusForbidden
		}},
		// Sidecar-only routes refuse invocations, whoever sends them.
		{"invoke inventorysvc's event route: lock a product's stock", func(t *testing.T) int {
			return invoke(t, http.MethodPost, "inventorysvc", "/events/orders", cloudEvent("ordersvc", "orders", lockStock))
		}},
		{"invoke inventorysvc's event route, HTTP proxy style", func(t *testing.T) int {
			s, _ := raw(t, http.MethodPost, gateway+"/events/orders", cloudEvent("ordersvc", "orders", lockStock), map[string]string{"dapr-app-id": sys.AppIDs["inventorysvc"]})
			return s
		}},
		{"invoke inventorysvc's event route with a forged caller header", func(t *testing.T) int {
			s, _ := raw(t, http.MethodPost, sys.InvokeURL("inventorysvc", "/events/orders"), cloudEvent("ordersvc", "orders", lockStock), map[string]string{"dapr-caller-app-id": ""})
			return s
		}},
		{"invoke ordersvc's event route: confirm a rejected order", func(t *testing.T) int {
			return invoke(t, http.MethodPost, "ordersvc", "/events/inventory", cloudEvent("inventorysvc", "inventory", fakeReserved))
		}},
		{"invoke inventorysvc's event route: put sold units back", func(t *testing.T) int {
			return invoke(t, http.MethodPost, "inventorysvc", "/events/orders", cloudEvent("ordersvc", "orders", fakeCancel))
		}},
		{"invoke ordersvc's dead-letter route", func(t *testing.T) int {
			return invoke(t, http.MethodPost, "ordersvc", "/events/dead-letters", cloudEvent("ordersvc", "orders", fakeDead))
		}},
		{"invoke inventorysvc's dead-letter route", func(t *testing.T) int {
			return invoke(t, http.MethodPost, "inventorysvc", "/events/dead-letters", cloudEvent("ordersvc", "orders", fakeDead))
		}},
		{"invoke the saga-timeout sweep", func(t *testing.T) int {
			return invoke(t, http.MethodPost, "ordersvc", "/saga-timeout", "")
		}},
		{"invoke ordersvc's /dapr/subscribe", func(t *testing.T) int {
			return invoke(t, http.MethodGet, "ordersvc", "/dapr/subscribe", "")
		}},
		{"invoke inventorysvc's /dapr/subscribe", func(t *testing.T) int {
			return invoke(t, http.MethodGet, "inventorysvc", "/dapr/subscribe", "")
		}},
		// An app's sidecar and the app itself want their tokens.
		{"inventorysvc's sidecar without its token: write the product", func(t *testing.T) int {
			s, _ := raw(t, http.MethodPost, sidecarHTTP("inventorysvc")+"/v1.0/state/inventory-state", `[{"key":"product:`+sku+`","value":{}}]`, nil)
			return s
		}},
		{"usersvc's sidecar without its token: read every secret", func(t *testing.T) int {
			s, _ := raw(t, http.MethodGet, sidecarHTTP("usersvc")+"/v1.0/secrets/secretstore/bulk", "", nil)
			return s
		}},
		{"ordersvc's sidecar with the wrong token: publish", func(t *testing.T) int {
			s, _ := raw(t, http.MethodPost, sidecarHTTP("ordersvc")+"/v1.0/publish/pubsub/"+sys.Topic("orders"), lockStock, map[string]string{"dapr-api-token": "guess"})
			return s
		}},
		{"inventorysvc's gRPC API without its token", func(t *testing.T) int {
			c, err := dapr.NewClientWithAddressContext(ctx, sys.SidecarGRPC("inventorysvc"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.GetState(ctx, "inventory-state", "product:"+sku, nil); err == nil {
				return http.StatusOK
			}
			return http.StatusUnauthorized
		}},
		{"inventorysvc's port around its sidecar", func(t *testing.T) int {
			s, _ := raw(t, http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/events/orders", sys.Port("inventorysvc")), cloudEvent("ordersvc", "orders", lockStock), nil)
			return s
		}},
		// Secrets are scoped: an app's sidecar serves only that app's.
		{"ordersvc's secrets API: the signing key", func(t *testing.T) int {
			return secretStatus(t, ctx, "ordersvc", "jwt-signing-key")
		}},
		{"inventorysvc's secrets API: the admin password", func(t *testing.T) int {
			return secretStatus(t, ctx, "inventorysvc", "admin-password")
		}},
		{"usersvc's secrets API: a connection string", func(t *testing.T) int {
			return secretStatus(t, ctx, "usersvc", "postgres-connection-string")
		}},
		// Topics are scoped: only a topic's owner publishes it.
		{"inventorysvc publishes an order event", func(t *testing.T) int {
			return publishStatus(ctx, "inventorysvc", "orders", lockStock)
		}},
		{"ordersvc publishes an inventory outcome", func(t *testing.T) int {
			return publishStatus(ctx, "ordersvc", "inventory", fakeReserved)
		}},
		{"usersvc publishes an order event", func(t *testing.T) int {
			return publishStatus(ctx, "usersvc", "orders", fakeCancel)
		}},
	}
	refusedCount := 0
	for _, a := range attacks {
		status := a.send(t)
		if refused(status) {
			refusedCount++
		} else {
			t.Errorf("%s: answered %d; want it refused (4xx or no connection)", a.name, status)
		}
	}
	t.Logf("attacks: %d tried, %d refused, %d not refused", len(attacks), refusedCount, len(attacks)-refusedCount)

	// Nothing changed. Every refusal above was synchronous: no route ran,
	// no event was published.
	if gw, body := raw(t, http.MethodGet, gateway+"/v1.0/healthz", "", nil); gw != http.StatusNoContent {
		t.Errorf("gateway /v1.0/healthz after the attacks = %d %s; want 204", gw, body)
	}
	checkStock(t, sku, 3, 0, 2)
	if o, _, err := getOrder(ctx, customer, rejected.ID); err != nil || o.Status != "rejected" || o.PaymentStatus == "charged" {
		t.Errorf("rejected order after the attacks: %+v, %v; want rejected, never charged", o, err)
	}
	if o, _, err := getOrder(ctx, customer, confirmed.ID); err != nil || o.Status != "confirmed" {
		t.Errorf("confirmed order after the attacks: %+v, %v; want confirmed", o, err)
	}
	if got := deadLetters(t, "ordersvc"); got != ordersDead || strings.Contains(got, marker) {
		t.Errorf("ordersvc's dead letters changed: %s", got)
	}
	if got := deadLetters(t, "inventorysvc"); got != inventoryDead || strings.Contains(got, marker) {
		t.Errorf("inventorysvc's dead letters changed: %s", got)
	}
}

func secretStatus(t *testing.T, ctx context.Context, svc, secret string) int {
	t.Helper()
	c, err := dapr.NewClientWithAddressContext(ctx, sys.SidecarGRPC(svc))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WithAuthToken(sys.SidecarToken(svc))
	if _, err := c.GetSecret(ctx, "secretstore", secret, nil); err == nil {
		return http.StatusOK
	}
	return http.StatusForbidden
}

func publishStatus(ctx context.Context, svc, topic, data string) int {
	if err := sys.PublishAs(ctx, svc, topic, data); err == nil {
		return http.StatusOK
	}
	return http.StatusForbidden
}

// TestNothingListensBeyondLoopback finds every TCP port the system's
// processes listen on and checks that each is bound to a loopback address
// and that a connection to it through the machine's other addresses fails.
func TestNothingListensBeyondLoopback(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("needs Linux /proc to list the system's sockets")
	}
	listening := listeners(t)
	var others []net.IP
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
			others = append(others, ipn.IP)
		}
	}
	tried, failed := 0, 0
	for name, socks := range listening {
		for _, sock := range socks {
			if !sock.ip.IsLoopback() {
				t.Errorf("%s listens on %s:%d; want a loopback address", name, sock.ip, sock.port)
			}
			for _, ip := range others {
				tried++
				c, err := net.DialTimeout("tcp", net.JoinHostPort(ip.String(), strconv.Itoa(sock.port)), time.Second)
				if err == nil {
					c.Close()
					t.Errorf("%s: port %d answers on %s", name, sock.port, ip)
					continue
				}
				failed++
			}
		}
	}
	n := 0
	for _, s := range listening {
		n += len(s)
	}
	if n < 4*len(harness.Services) {
		t.Fatalf("found %d listening sockets of the system (%v); want at least the apps' and sidecars'", n, listening)
	}
	if len(others) == 0 {
		t.Logf("this machine has no non-loopback address; checked the bind addresses of %d sockets only", n)
	}
	t.Logf("%d listening sockets, all on loopback; %d connections through %v tried, %d failed", n, tried, others, failed)
}

type socket struct {
	ip   net.IP
	port int
}

// listeners maps each process of the system to its listening TCP sockets.
func listeners(t *testing.T) map[string][]socket {
	t.Helper()
	inodes := map[string]string{} // socket inode -> process name
	for name, pid := range sys.Pids() {
		fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
		for _, fd := range fds {
			if link, err := os.Readlink(fd); err == nil && strings.HasPrefix(link, "socket:[") {
				inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = name
			}
		}
	}
	out := map[string][]socket{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, row := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(row)
			if len(f) < 10 || f[3] != "0A" { // 0A: LISTEN
				continue
			}
			name, ok := inodes[f[9]]
			if !ok {
				continue
			}
			hexIP, hexPort, _ := strings.Cut(f[1], ":")
			port, _ := strconv.ParseUint(hexPort, 16, 16)
			out[name] = append(out[name], socket{ip: procIP(hexIP), port: int(port)})
		}
	}
	return out
}

// procIP decodes an address of /proc/net/tcp{,6}: 32-bit words in host
// (little-endian) order.
func procIP(h string) net.IP {
	b := make([]byte, len(h)/2)
	for i := range b {
		v, _ := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		b[i] = byte(v)
	}
	for i := 0; i+4 <= len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.IP(b)
}

// The gateway forwards /v1.0/invoke/<URL>/method/... to any HTTP URL
// (Dapr's invocation of non-Dapr endpoints), which no setting of daprd's
// stable components turns off. It sends no token, so the apps and their
// sidecars refuse it, but any other HTTP server the gateway can reach is
// exposed to its clients.
func TestGatewayReachesOnlyTheApps(t *testing.T) {
	target := httpServer(t)
	for _, url := range []string{
		sys.Gateway + "/v1.0/invoke/" + strings.ReplaceAll(target, "/", "%2F") + "/method/secret",
		sys.Gateway + "/v1.0/invoke/" + target + "/method/secret",
		sys.Gateway + "/secret",
	} {
		status, body := raw(t, http.MethodGet, url, "", nil)
		if strings.Contains(body, "reached") || !refused(status) {
			t.Errorf("GET %s through the gateway = %d %s; want it refused", url, status, body)
		}
	}
	// Through the gateway's gRPC API, which the route check does not see.
	c, err := dapr.NewClientWithAddressContext(context.Background(), sys.SidecarGRPC("gateway"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if out, err := c.InvokeMethod(context.Background(), target, "secret", "get"); err == nil || strings.Contains(string(out), "reached") {
		t.Errorf("gRPC invoke of %s through the gateway = %q, %v; want an error", target, out, err)
	}
	// Invoking by header: any path, the app id in dapr-app-id.
	status, body := raw(t, http.MethodGet, sys.Gateway+"/secret", "", map[string]string{"dapr-app-id": target})
	if strings.Contains(body, "reached") || !refused(status) {
		t.Errorf("GET /secret with dapr-app-id %s through the gateway = %d %s; want it refused", target, status, body)
	}
}

// httpServer serves "reached" on a loopback port for the test.
func httpServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.Copy(w, bytes.NewBufferString("reached")) }), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}
