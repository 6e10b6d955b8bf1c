package telemetry

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// instrumentation names the shop's own spans.
const instrumentation = "shop"

// OrderIDKey is the attribute that names the order a span worked on;
// tools/trace finds an order's trace by it.
const OrderIDKey = attribute.Key("order.id")

// Start starts a span of the service's own work (a payment charge, a
// reservation step, a publish), child of the span in ctx. It uses the
// tracer provider New installed; before New, or without an exporter, the
// span records nothing and passes ctx's trace context on.
func Start(ctx context.Context, name string, kind trace.SpanKind, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return otel.Tracer(instrumentation).Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
}

// End ends span, marked failed with err when err is not nil.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// SetOrderID names the order the current span of ctx works on. The id
// may come from a request not validated yet: an attribute that is not
// UTF-8 would make the exporter drop its whole batch of spans.
func SetOrderID(ctx context.Context, id string) {
	trace.SpanFromContext(ctx).SetAttributes(OrderIDKey.String(strings.ToValidUTF8(id, "\uFFFD")))
}
