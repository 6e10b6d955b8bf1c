package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// calls counts what each sidecar did, from the counters of its Prometheus
// metrics: the calls its app made to its API (gRPC, by method; HTTP), the
// calls it made to its app (by path: event deliveries, invocations, the
// cron binding), and the service invocations it sent to other sidecars.
// Keys are "<sidecar>/<call>".
type calls map[string]float64

// callFamilies are the counters calls reads, and the label that names the
// call.
var callFamilies = map[string]string{
	"dapr_grpc_io_server_completed_rpcs":             "grpc_server_method",
	"dapr_http_server_request_count":                 "method",
	"dapr_http_client_completed_count":               "path",
	"dapr_runtime_service_invocation_req_sent_total": "dst_app_id",
}

var (
	metricLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\}\s+(\S+)$`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// parseCalls adds the counters of one sidecar's metrics text to c.
func (c calls) parse(sidecar string, text string) {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := metricLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		label, ok := callFamilies[m[1]]
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			continue
		}
		name := ""
		for _, l := range labelPair.FindAllStringSubmatch(m[2], -1) {
			if l[1] == label {
				name = l[2]
			}
		}
		c[sidecar+"/"+callName(m[1], name)] += v
	}
}

// callName is a short name of a call: "api <method>" for the app's calls to
// its sidecar, "app <path>" for the sidecar's calls to its app, "invoke"
// for invocations sent to other sidecars.
func callName(family, label string) string {
	switch family {
	case "dapr_grpc_io_server_completed_rpcs":
		// "/dapr.proto.runtime.v1.Dapr/GetState" -> "grpc GetState"; the
		// internal service invocation between sidecars keeps its service.
		svc, method, _ := strings.Cut(strings.TrimPrefix(label, "/"), "/")
		if strings.Contains(svc, "internals") {
			return "grpc internal " + method
		}
		return "grpc " + method
	case "dapr_http_server_request_count":
		return "http API " + label
	case "dapr_http_client_completed_count":
		// The path label is empty unless the sidecar's Configuration
		// turns on increased cardinality: deliveries, invocations and the
		// cron binding are then one count.
		return strings.TrimSpace("to app " + label)
	default:
		return "invoke sent"
	}
}

// scrapeCalls reads the counters of every sidecar of the system.
func (s *shop) scrapeCalls(ctx context.Context) (calls, error) {
	c := calls{}
	for _, name := range s.sidecars() {
		url := s.sys.MetricsURL(name)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := s.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("metrics of %s: %w", name, err)
		}
		var b strings.Builder
		_, err = bufio.NewReader(resp.Body).WriteTo(&b)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("metrics of %s: %w", name, err)
		}
		c.parse(name, b.String())
	}
	return c, nil
}

// sidecars are the names of the system's sidecars.
func (s *shop) sidecars() []string {
	var out []string
	for name := range s.sys.Pids() {
		if strings.HasSuffix(name, "-dapr") {
			out = append(out, name)
		}
	}
	return out
}

// perOrder records, under prefix, the calls c over n orders, each as calls
// per order, and their sum as prefix_total.
func (b *bench) perOrder(prefix string, c calls, n int) {
	total := 0.0
	for k, d := range c {
		if d <= 0 {
			continue
		}
		b.figs[prefix+"/"+k] = d / float64(n)
		total += d
	}
	b.figs[prefix+"_total"] = total / float64(n)
}
