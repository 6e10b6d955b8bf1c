// Package telemetry is what the services show of their work: spans of an
// OpenTelemetry tracer, exported over OTLP/HTTP to the collector that
// OTEL_EXPORTER_OTLP_ENDPOINT names (none: spans are not recorded, trace
// context still propagates), and Prometheus metrics on a registry of their
// own, served at /metrics on METRICS_ADDR.
//
// The sidecars decide what is sampled: the apps' spans follow the sampled
// flag of the W3C traceparent they receive (a parent-based sampler), so
// Dapr's samplingRate turns the apps' spans on and off with its own.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Propagator reads and writes W3C traceparent and tracestate, the trace
// context Dapr speaks.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Telemetry is one service's tracer and metrics registry.
type Telemetry struct {
	// Tracer starts the service's spans.
	Tracer trace.Tracer
	// Registry holds the service's metrics, and Go's and the process's.
	Registry *prometheus.Registry
	requests *prometheus.HistogramVec
	shutdown func(context.Context) error
}

// Options say where spans go.
type Options struct {
	// Service is the service's name (service.name of its spans).
	Service string
	// Endpoint is the OTLP/HTTP collector's base URL, for example
	// http://127.0.0.1:4318 (OTEL_EXPORTER_OTLP_ENDPOINT); empty records
	// no spans.
	Endpoint string
}

// exportTimeout bounds one export, and retries of one batch: a collector
// that is not there costs a background goroutine this long per batch, and
// spans past the queue are dropped, never a request's time.
const exportTimeout = 5 * time.Second

// New returns the service's telemetry. With no endpoint its tracer records
// nothing but passes the trace context it is given on.
func New(ctx context.Context, opts Options) (*Telemetry, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	t := &Telemetry{Registry: reg, requests: newRequests(reg),
		Tracer: noop.NewTracerProvider().Tracer(opts.Service), shutdown: func(context.Context) error { return nil }}
	if opts.Endpoint == "" {
		return t, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(opts.Endpoint+"/v1/traces"),
		otlptracehttp.WithTimeout(exportTimeout),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: true, InitialInterval: 500 * time.Millisecond, MaxInterval: 2 * time.Second, MaxElapsedTime: exportTimeout}))
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter: %w", err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", opts.Service))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		// The sidecar's samplingRate decides; a span with no parent (none
		// of the services starts one) is not sampled.
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample())),
	)
	t.Tracer = tp.Tracer(opts.Service)
	t.shutdown = tp.Shutdown
	// One tracer provider per process: the shared packages' spans
	// (Start) come from it too.
	otel.SetTracerProvider(tp)
	return t, nil
}

// Shutdown exports the spans still queued, for at most as long as ctx
// lets it.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if err := t.shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("telemetry shutdown: %w", err)
	}
	return nil
}

// MetricsHandler serves the registry in the Prometheus text format.
func (t *Telemetry) MetricsHandler() http.Handler {
	return promhttpHandler(t.Registry)
}
