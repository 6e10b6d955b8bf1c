package telemetry

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"
)

const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// closedEndpoint is the URL of a loopback port nothing listens on.
func closedEndpoint(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// A collector that is not there costs requests nothing, and shutting down
// waits no longer than its context.
func TestMissingCollectorSlowsNothing(t *testing.T) {
	tel, err := New(context.Background(), Options{Service: "test", Endpoint: closedEndpoint(t)})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	r.Use(TagRoute)
	r.HandleFunc("/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, span := Start(r.Context(), "work", trace.SpanKindInternal)
		span.End()
	})
	h := tel.HTTP(r)
	start := time.Now()
	for i := 0; i < 500; i++ {
		req := httptest.NewRequest(http.MethodGet, "/things/x", nil)
		req.Header.Set("traceparent", parent)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("500 traced requests with no collector took %v; want well under 2s", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start = time.Now()
	if err := tel.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown = %v; want nil (spans dropped)", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Shutdown took %v; want it bounded by its context (1s)", d)
	}
}

// Requests are counted by route template, never by raw path.
func TestRequestsByRoute(t *testing.T) {
	tel, err := New(context.Background(), Options{Service: "test"})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	r.Use(TagRoute)
	r.HandleFunc("/things/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
	h := tel.HTTP(r)
	for _, path := range []string{"/things/a", "/things/b", "/nothing"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, path, nil))
	}
	if n := testutil.CollectAndCount(tel.requests); n != 2 {
		t.Errorf("%d request series; want 2 (/things/{id} 201, unmatched 404)", n)
	}
	rec := httptest.NewRecorder()
	tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, series := range []string{
		`http_server_request_duration_seconds_count{method="POST",route="/things/{id}",status="201"} 2`,
		`http_server_request_duration_seconds_count{method="POST",route="unmatched",status="404"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), series) {
			t.Errorf("metrics lack %s", series)
		}
	}
}

// Calls to the sidecar carry the trace context of the span in ctx.
func TestOutgoingTraceContext(t *testing.T) {
	ctx := Propagator.Extract(context.Background(), propagation.MapCarrier{"traceparent": parent})
	md, _ := metadata.FromOutgoingContext(WithOutgoingTraceContext(ctx))
	if got := md.Get("traceparent"); len(got) != 1 || got[0] != parent {
		t.Errorf("outgoing traceparent = %v; want [%s]", got, parent)
	}
	if md, ok := metadata.FromOutgoingContext(WithOutgoingTraceContext(context.Background())); ok && len(md.Get("traceparent")) > 0 {
		t.Errorf("outgoing traceparent without a span = %v; want none", md.Get("traceparent"))
	}
}
