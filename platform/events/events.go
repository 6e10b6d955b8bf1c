// Package events is how the services take saga events from their Dapr
// sidecar: the CloudEvent envelope, its data in either of the forms Dapr
// delivers, and the answer a subscriber owes the sidecar.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"shop/platform/httpx"
	"shop/platform/telemetry"
)

// CloudEvent is the envelope Dapr delivers to a subscriber.
type CloudEvent struct {
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Topic           string          `json:"topic"`
	PubsubName      string          `json:"pubsubname"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
	TraceParent     string          `json:"traceparent"`
}

// Payload returns the event's data as JSON. The shop's publishers send it
// as an object; a publisher that sent the JSON text as a string
// (text/plain, as Dapr's transactional outbox does) gives the same bytes.
func (e CloudEvent) Payload() ([]byte, error) {
	if len(e.Data) == 0 || string(e.Data) == "null" {
		return nil, errors.New("event has no data")
	}
	if e.Data[0] == '"' {
		var s string
		if err := json.Unmarshal(e.Data, &s); err != nil {
			return nil, fmt.Errorf("event data: %w", err)
		}
		return []byte(s), nil
	}
	return e.Data, nil
}

// Decode unmarshals the event's data into v.
func (e CloudEvent) Decode(v any) error {
	p, err := e.Payload()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(p, v); err != nil {
		return fmt.Errorf("event data: %w", err)
	}
	return nil
}

// ErrDrop marks a message that can never succeed (malformed, or of a type
// nobody handles): Dapr drops it, or moves it to the dead-letter topic,
// instead of retrying it forever. Wrap it: fmt.Errorf("...: %w", ErrDrop).
var ErrDrop = errors.New("message cannot be processed")

// Handle turns fn into a Dapr subscription endpoint: nil answers SUCCESS;
// an error wrapping ErrDrop answers DROP; any other error answers RETRY, so
// that the sidecar redelivers after its resiliency policy's back-off. Both
// failures are logged with the event's id and topic.
func Handle(fn func(r *http.Request, e CloudEvent) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Decoded leniently: every envelope carries attributes CloudEvent
		// does not list (specversion, time, traceid...), and a consumer must
		// ignore the ones it does not know.
		var e CloudEvent
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes)).Decode(&e); err != nil {
			// A body that is not a CloudEvent can never succeed.
			httpx.Logger(r.Context()).WithError(err).Error("event dropped: not a CloudEvent")
			answer(w, "DROP")
			return
		}
		ctx, span := telemetry.Start(parentContext(r.Context(), e.TraceParent), "process "+e.Topic, trace.SpanKindConsumer,
			attribute.String("messaging.destination.name", e.Topic), attribute.String("messaging.message.id", e.ID))
		r = r.WithContext(ctx)
		err := fn(r, e)
		telemetry.End(span, err)
		log := httpx.Logger(r.Context()).WithFields(map[string]any{"event_id": e.ID, "topic": e.Topic})
		switch {
		case err == nil:
			answer(w, "SUCCESS")
		case errors.Is(err, ErrDrop):
			log.WithError(err).Error("event dropped")
			answer(w, "DROP")
		default:
			log.WithError(err).Warn("event will be retried")
			answer(w, "RETRY")
		}
	}
}

// HandleFrom is Handle for a topic that only the apps publishers publish:
// an event whose CloudEvent source (the app id of the sidecar that
// published it) is another app is dropped, and logged, without calling fn.
func HandleFrom(publishers []string, fn func(r *http.Request, e CloudEvent) error) http.HandlerFunc {
	return Handle(func(r *http.Request, e CloudEvent) error {
		if err := checkSource(e, publishers); err != nil {
			return err
		}
		return fn(r, e)
	})
}

func checkSource(e CloudEvent, publishers []string) error {
	if e.Source == "" || !slices.Contains(publishers, e.Source) {
		return fmt.Errorf("%w: event from %q, which does not publish topic %q (publishers: %v)", ErrDrop, e.Source, e.Topic, publishers)
	}
	return nil
}

func answer(w http.ResponseWriter, status string) {
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": status})
}

// parentContext is ctx, in the trace of the sidecar's delivery request
// (its traceparent header, a child of the CloudEvent's trace context), or,
// when the request came without one, in the trace of the event's own
// traceparent. Every gRPC call made while handling the event carries it
// on (telemetry.InjectTraceContext), so that the state operations and the
// events published for it belong to the same trace.
func parentContext(ctx context.Context, traceparent string) context.Context {
	if trace.SpanContextFromContext(ctx).IsValid() || traceparent == "" {
		return ctx
	}
	return telemetry.Propagator.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
}
