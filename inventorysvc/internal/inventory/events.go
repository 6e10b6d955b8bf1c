package inventory

import (
	"fmt"

	"shop/platform/contract"
)

// OutcomeEvent is the event that announces r's outcome (platform/contract):
// inventory.reserved or inventory.rejected.
func OutcomeEvent(r Reservation) (any, error) {
	switch r.Outcome {
	case OutcomeReserved:
		return contract.InventoryReserved{Type: contract.TypeInventoryReserved, OrderID: r.OrderID}, nil
	case OutcomeRejected:
		lines := make([]contract.RejectedLine, len(r.Rejections))
		for i, l := range r.Rejections {
			lines[i] = contract.RejectedLine{SKU: l.SKU, Reason: string(l.Reason)}
		}
		return contract.InventoryRejected{Type: contract.TypeInventoryRejected, OrderID: r.OrderID, Lines: lines}, nil
	default:
		return nil, fmt.Errorf("order %s has no outcome to publish", r.OrderID)
	}
}
