package inventoryhttp

import (
	"fmt"
	"net/http"
	"strings"
)

// metrics serves the service's own counters in the Prometheus text format
// (version 0.0.4), next to the sidecar's metrics: optimistic-concurrency
// conflicts and what became of the reservations. Nothing in it is secret.
func (h *Handler) metrics(w http.ResponseWriter, _ *http.Request) {
	s := h.svc.Stats()
	var b strings.Builder
	counter := func(name, help string, values ...string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
		for _, v := range values {
			fmt.Fprintf(&b, "%s%s\n", name, v)
		}
	}
	counter("inventory_conflicts_retried_total", "Guarded writes that lost an optimistic-concurrency race (each is retried from a fresh read while attempts are left).",
		fmt.Sprintf(" %d", s.ConflictsRetried))
	counter("inventory_conflicts_exhausted_total", "Operations that gave up after losing every retry to concurrent writers.",
		fmt.Sprintf(" %d", s.ConflictsExhausted))
	counter("inventory_reservations_total", "Reservations by the state they reached (redeliveries not counted).",
		fmt.Sprintf(`{status="reserved"} %d`, s.Reserved),
		fmt.Sprintf(`{status="rejected"} %d`, s.Rejected),
		fmt.Sprintf(`{status="committed"} %d`, s.Committed),
		fmt.Sprintf(`{status="released"} %d`, s.Released))
	counter("inventory_outcomes_published_total", "Answers to order.created published (inventory.reserved or inventory.rejected), redeliveries' included.",
		fmt.Sprintf(" %d", s.Published))
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(b.String()))
}
