package inventoryhttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"go.opentelemetry.io/otel/trace"

	"shop/inventorysvc/internal/inventory"
	"shop/platform/contract"
	"shop/platform/events"
	"shop/platform/httpx"
	"shop/platform/telemetry"
)

// OrdersRoute is where the sidecar delivers the events of the orders topic.
const OrdersRoute = "/events/orders"

// orderEvent is the part of the orders topic's events (contract.Order*)
// the inventory reads: fields an event type does not have stay empty, and
// the others are ignored.
type orderEvent struct {
	Type    string               `json:"type"`
	OrderID string               `json:"order_id"`
	Items   []contract.OrderItem `json:"items"`  // contract.OrderCreated
	Reason  string               `json:"reason"` // contract.OrderCancelled
}

// lines are the order's items as inventory lines.
func (e orderEvent) lines() []inventory.Line {
	lines := make([]inventory.Line, len(e.Items))
	for i, it := range e.Items {
		lines[i] = inventory.Line{SKU: it.SKU, Quantity: it.Quantity}
	}
	return lines
}

// stepNames name the span of the reservation step each order event starts.
var stepNames = map[string]string{
	contract.TypeOrderCreated:   "inventory.reserve",
	contract.TypeOrderConfirmed: "inventory.commit",
	contract.TypeOrderCancelled: "inventory.release",
}

// orderEvents handles the orders topic. The sidecar is answered SUCCESS
// once the event's effect is stored and, for order.created, its outcome
// published; RETRY on a transient failure (the store or the broker did not
// answer, or the optimistic-concurrency retries ran out); DROP, logged, for
// an event that can never succeed: malformed data, an event that
// contradicts the reservation (inventory.ErrNotApplicable), or a decision
// that would break the stock invariant (a bug: retrying would block the
// topic, the dead-letter topic keeps the event for a replay once fixed).
//
// Only ordersvc publishes the orders topic: an event from another source is
// dropped and logged (events.HandleFrom).
//
// Event types this service does not know are acknowledged and ignored: new
// types on the topic are not a breaking change (docs/events.md).
func (h *Handler) orderEvents() http.HandlerFunc {
	return events.HandleFrom([]string{h.deps.OrdersAppID}, func(r *http.Request, e events.CloudEvent) error {
		var data orderEvent
		if err := e.Decode(&data); err != nil {
			return fmt.Errorf("%w: %w", events.ErrDrop, err)
		}
		log := httpx.Logger(r.Context()).WithField("event_type", data.Type).WithField("order_id", data.OrderID)
		telemetry.SetOrderID(r.Context(), data.OrderID)
		var step func(ctx context.Context) error
		switch data.Type {
		case contract.TypeOrderCreated:
			step = func(ctx context.Context) error { return h.svc.OrderCreated(ctx, data.OrderID, data.lines()) }
		case contract.TypeOrderConfirmed:
			step = func(ctx context.Context) error { return h.svc.OrderConfirmed(ctx, data.OrderID) }
		case contract.TypeOrderCancelled:
			step = func(ctx context.Context) error { return h.svc.OrderCancelled(ctx, data.OrderID, data.Reason) }
		case "":
			return fmt.Errorf("%w: event data has no type", events.ErrDrop)
		default:
			log.Info("order event of an unknown type ignored")
			return nil
		}
		// The reservation step is a span of its own: its state reads and
		// writes, and the outcome it publishes, are its children.
		ctx, span := telemetry.Start(r.Context(), stepNames[data.Type], trace.SpanKindInternal, telemetry.OrderIDKey.String(data.OrderID))
		err := step(ctx)
		telemetry.End(span, err)
		if errors.Is(err, inventory.ErrMalformed) || errors.Is(err, inventory.ErrNotApplicable) || errors.Is(err, inventory.ErrInvariant) {
			return fmt.Errorf("%w: %w", events.ErrDrop, err)
		}
		if err == nil {
			log.Info("order event handled")
		}
		return err
	})
}
