package telemetry

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"shop/platform/httpx"
)

// routeKey holds the *string that TagRoute fills in with the route
// template, so that HTTP labels a request by its route, not its path.
type routeKey struct{}

// Unmatched is the route label of a request no route matched.
const Unmatched = "unmatched"

// requestBuckets are the bounds, in seconds, of the request histogram:
// from half a millisecond (a cached read) to ten seconds (a timeout).
var requestBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// HTTP returns middleware that serves each request inside a server span,
// child of the caller's W3C traceparent (the sidecar's), and observes its
// duration in http_server_request_duration_seconds by route, method and
// status. The route is the router's template (TagRoute), never the raw
// path, so that the number of series stays bounded.
func (t *Telemetry) HTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx := Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := t.Tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", strings.ToValidUTF8(r.URL.Path, "\uFFFD"))))
		route := Unmatched
		ctx = context.WithValue(ctx, routeKey{}, &route)
		rec := &httpx.StatusRecorder{ResponseWriter: w}
		defer func() {
			status := rec.Status()
			if status == 0 {
				status = http.StatusOK
			}
			span.SetName(r.Method + " " + route)
			span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status))
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			span.End()
			t.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

// TagRoute is router middleware (mux.Router.Use): it names the matched
// route's template for HTTP.
func TagRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := r.Context().Value(routeKey{}).(*string); ok {
			if cur := mux.CurrentRoute(r); cur != nil {
				if tpl, err := cur.GetPathTemplate(); err == nil {
					*p = tpl
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

func newRequests(reg prometheus.Registerer) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_server_request_duration_seconds",
		Help:    "Requests the app served (from its sidecar: invocations, event deliveries, bindings), by route template, method and status code.",
		Buckets: requestBuckets,
	}, []string{"route", "method", "status"})
	reg.MustRegister(h)
	return h
}
