package inventoryhttp

import (
	"errors"
	"fmt"
	"net/http"

	"shop/inventorysvc/internal/inventory"
	"shop/platform/events"
	"shop/platform/httpx"
)

// OrdersRoute is where the sidecar delivers the events of the orders topic.
// It stays stable when the subscription moves to a declarative Subscription
// resource (with a dead-letter topic).
const OrdersRoute = "/events/orders"

// Order event types the inventory reacts to (docs/events.md).
const (
	TypeOrderCreated   = "order.created"
	TypeOrderConfirmed = "order.confirmed"
	TypeOrderCancelled = "order.cancelled"
)

// DeadLettersRoute is where the sidecar delivers the orders topic's dead
// letters.
const DeadLettersRoute = "/events/dead-letters"

type subscriptionJSON struct {
	PubSubName      string `json:"pubsubname"`
	Topic           string `json:"topic"`
	Route           string `json:"route"`
	DeadLetterTopic string `json:"deadLetterTopic,omitempty"`
}

// subscribe answers the sidecar's GET /dapr/subscribe at start-up.
func (h *Handler) subscribe(w http.ResponseWriter, _ *http.Request) {
	dead := events.DeadLetterTopic(h.cfg.OrdersTopic)
	httpx.WriteJSON(w, http.StatusOK, []subscriptionJSON{
		{PubSubName: h.cfg.PubSub, Topic: h.cfg.OrdersTopic, Route: OrdersRoute, DeadLetterTopic: dead},
		{PubSubName: h.cfg.PubSub, Topic: dead, Route: DeadLettersRoute},
	})
}

// orderEvent is the data of the orders topic's events; fields an event type
// does not have stay empty, and unknown fields are ignored.
type orderEvent struct {
	Type    string           `json:"type"`
	OrderID string           `json:"order_id"`
	Items   []inventory.Line `json:"items"`
	// Reason is why an order was cancelled (order.cancelled).
	Reason string `json:"reason"`
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
	return events.HandleFrom([]string{h.cfg.OrdersAppID}, func(r *http.Request, e events.CloudEvent) error {
		var data orderEvent
		if err := e.Decode(&data); err != nil {
			return fmt.Errorf("%w: %w", events.ErrDrop, err)
		}
		log := httpx.Logger(r.Context()).WithField("event_type", data.Type).WithField("order_id", data.OrderID)
		ctx := r.Context()
		var err error
		switch data.Type {
		case TypeOrderCreated:
			err = h.svc.OrderCreated(ctx, data.OrderID, data.Items)
		case TypeOrderConfirmed:
			err = h.svc.OrderConfirmed(ctx, data.OrderID)
		case TypeOrderCancelled:
			err = h.svc.OrderCancelled(ctx, data.OrderID, data.Reason)
		case "":
			return fmt.Errorf("%w: event data has no type", events.ErrDrop)
		default:
			log.Info("order event of an unknown type ignored")
			return nil
		}
		if errors.Is(err, inventory.ErrMalformed) || errors.Is(err, inventory.ErrNotApplicable) || errors.Is(err, inventory.ErrInvariant) {
			return fmt.Errorf("%w: %w", events.ErrDrop, err)
		}
		if err == nil {
			log.Info("order event handled")
		}
		return err
	})
}
