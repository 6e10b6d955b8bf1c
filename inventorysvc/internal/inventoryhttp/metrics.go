package inventoryhttp

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"shop/inventorysvc/internal/inventory"
)

// registerStats registers the domain's counters (inventory.Stats) on reg,
// read when scraped: optimistic-concurrency conflicts and what became of
// the reservations.
func registerStats(reg prometheus.Registerer, svc *inventory.Service) {
	counter := func(name, help string, labels prometheus.Labels, value func(inventory.Stats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(value(svc.Stats())) })
	}
	const reservations = "inventory_reservations_total"
	const reservationsHelp = "Reservations by the state they reached (redeliveries not counted)."
	reg.MustRegister(
		counter("inventory_conflicts_retried_total", "Guarded writes that lost an optimistic-concurrency race (each is retried from a fresh read while attempts are left).", nil,
			func(s inventory.Stats) int64 { return s.ConflictsRetried }),
		counter("inventory_conflicts_exhausted_total", "Operations that gave up after losing every retry to concurrent writers.", nil,
			func(s inventory.Stats) int64 { return s.ConflictsExhausted }),
		counter(reservations, reservationsHelp, prometheus.Labels{"status": "reserved"}, func(s inventory.Stats) int64 { return s.Reserved }),
		counter(reservations, reservationsHelp, prometheus.Labels{"status": "rejected"}, func(s inventory.Stats) int64 { return s.Rejected }),
		counter(reservations, reservationsHelp, prometheus.Labels{"status": "committed"}, func(s inventory.Stats) int64 { return s.Committed }),
		counter(reservations, reservationsHelp, prometheus.Labels{"status": "released"}, func(s inventory.Stats) int64 { return s.Released }),
		counter("inventory_outcomes_published_total", "Answers to order.created published (inventory.reserved or inventory.rejected), redeliveries' included.", nil,
			func(s inventory.Stats) int64 { return s.Published }),
	)
}

// metrics serves every metric of the registry (the same as the metrics
// listener, METRICS_ADDR) in the Prometheus text format. Nothing in it is
// secret.
func (h *Handler) metrics() http.Handler {
	return promhttp.HandlerFor(h.deps.Registry, promhttp.HandlerOpts{})
}
