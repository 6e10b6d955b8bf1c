package orderhttp

import (
	"errors"
	"fmt"
	"net/http"

	"shop/ordersvc/internal/order"
	"shop/platform/contract"
	"shop/platform/events"
	"shop/platform/httpx"
	"shop/platform/telemetry"
)

// Where the sidecar delivers the events of the topics ordersvc consumes.
const (
	InventoryRoute = "/events/inventory"
	OrdersRoute    = "/events/orders"
)

// onInventory handles the inventory topic: a reserved order is charged, a
// rejected one rejected with the reason of its first failed line.
func (h *Handler) onInventory(r *http.Request, e events.CloudEvent) error {
	var ev contract.InventoryRejected // inventory.reserved is the same without lines
	if err := e.Decode(&ev); err != nil {
		return errors.Join(events.ErrDrop, err)
	}
	if ev.Type != contract.TypeInventoryReserved && ev.Type != contract.TypeInventoryRejected {
		return nil // a type ordersvc does not act on
	}
	if !order.ValidID(ev.OrderID) {
		return fmt.Errorf("%w: no valid order id: %q", events.ErrDrop, ev.OrderID)
	}
	telemetry.SetOrderID(r.Context(), ev.OrderID)
	var err error
	switch ev.Type {
	case contract.TypeInventoryReserved:
		err = h.svc.OnReserved(r.Context(), ev.OrderID)
	case contract.TypeInventoryRejected:
		reason := order.ReasonOutOfStock
		if len(ev.Lines) > 0 && ev.Lines[0].Reason != "" {
			reason = ev.Lines[0].Reason
		}
		err = h.svc.OnRejected(r.Context(), ev.OrderID, reason)
	}
	if errors.Is(err, order.ErrNotFound) {
		// Inventory only answers orders it learnt of from order.created,
		// which is published only once its order is stored: this one is
		// not ours (another system on the same topic, or a test). Nothing
		// to do, and nothing that retrying or a dead letter would mend.
		httpx.Logger(r.Context()).WithField("order_id", ev.OrderID).Warn("inventory outcome for an unknown order ignored")
		return nil
	}
	return err
}

// onOrders handles ordersvc's own order.cancelled: a charged payment is
// refunded.
func (h *Handler) onOrders(r *http.Request, e events.CloudEvent) error {
	var ev contract.Envelope
	if err := e.Decode(&ev); err != nil {
		return errors.Join(events.ErrDrop, err)
	}
	if ev.Type != order.TypeOrderCancelled {
		return nil
	}
	if !order.ValidID(ev.OrderID) {
		return fmt.Errorf("%w: no valid order id: %q", events.ErrDrop, ev.OrderID)
	}
	telemetry.SetOrderID(r.Context(), ev.OrderID)
	err := h.svc.OnCancelled(r.Context(), ev.OrderID)
	if errors.Is(err, order.ErrNotFound) {
		// order.cancelled is published only once its order is stored: an
		// unknown order is not ours.
		httpx.Logger(r.Context()).WithField("order_id", ev.OrderID).Warn("order.cancelled for an unknown order ignored")
		return nil
	}
	return err
}
