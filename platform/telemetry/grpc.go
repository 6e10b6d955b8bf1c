package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// InjectTraceContext is a gRPC client interceptor for the app's calls to
// its sidecar: each carries the W3C traceparent of the span in its
// context, so that the sidecar's spans of the call (a state write, a
// publish and the CloudEvent's trace context, a service invocation and the
// callee's request) join the app's trace.
func InjectTraceContext(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return invoker(WithOutgoingTraceContext(ctx), method, req, reply, cc, opts...)
}

// WithOutgoingTraceContext returns ctx with the trace context of its span
// in the outgoing gRPC metadata (replacing any traceparent already there).
func WithOutgoingTraceContext(ctx context.Context) context.Context {
	carrier := propagation.MapCarrier{}
	Propagator.Inject(ctx, carrier)
	if len(carrier) == 0 {
		return ctx
	}
	md, _ := metadata.FromOutgoingContext(ctx)
	md = md.Copy()
	for k, v := range carrier {
		md.Set(k, v)
	}
	return metadata.NewOutgoingContext(ctx, md)
}
