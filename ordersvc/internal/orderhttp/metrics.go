package orderhttp

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"shop/ordersvc/internal/order"
	"shop/platform/contract"
)

// Metrics are the order service's own metrics, next to the request
// metrics every service has (platform/telemetry) and its sidecar's.
type Metrics struct {
	outcomes      *prometheus.CounterVec
	sagaDuration  *prometheus.HistogramVec
	relayed       prometheus.Counter
	relayLag      prometheus.Gauge
	oldestPending prometheus.Gauge
}

// sagaBuckets are the bounds, in seconds, of the saga duration: from a few
// milliseconds (the target at load is 100 ms at p99) to past the default
// saga timeout (2 minutes).
var sagaBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// NewMetrics registers the order metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orders_outcomes_total",
			Help: "Orders that reached a status (confirmed, rejected, cancelled), by status and reason (docs/events.md: out_of_stock, unknown_product, payment_declined, cancelled_by_customer, saga_timeout; empty for confirmed).",
		}, []string{"status", "reason"}),
		sagaDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "orders_saga_duration_seconds",
			Help:    "Time from an order's creation to the status that ended its saga (confirmed, rejected, cancelled while pending), by that status.",
			Buckets: sagaBuckets,
		}, []string{"status"}),
		relayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "orders_events_relayed_total",
			Help: "Events the sweep published from order records, left there by a failed or interrupted publish.",
		}),
		relayLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "orders_relay_lag_seconds",
			Help: "Age of the oldest event the last sweep found due for the relay (0: none).",
		}),
		oldestPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "orders_pending_oldest_age_seconds",
			Help: "Age of the oldest order still pending after the last sweep (0: none). Past SAGA_TIMEOUT the sweep could not cancel it.",
		}),
	}
	reg.MustRegister(m.outcomes, m.sagaDuration, m.relayed, m.relayLag, m.oldestPending)
	// The statuses and reasons of the contract, at zero, so that a rate
	// over them exists before the first order.
	m.outcomes.WithLabelValues(string(order.StatusConfirmed), "")
	for _, reason := range []string{contract.ReasonOutOfStock, contract.ReasonUnknownProduct} {
		m.outcomes.WithLabelValues(string(order.StatusRejected), reason)
	}
	for _, reason := range []string{order.ReasonPaymentDeclined, order.ReasonCustomer, order.ReasonTimeout} {
		m.outcomes.WithLabelValues(string(order.StatusCancelled), reason)
	}
	return m
}

// Outcome counts an order that moved from status from to o.Status
// (order.WithOutcome); a move out of pending ends the saga.
func (m *Metrics) Outcome(_ context.Context, from order.Status, o order.Order) {
	m.outcomes.WithLabelValues(string(o.Status), o.StatusReason).Inc()
	if from == order.StatusPending {
		m.sagaDuration.WithLabelValues(string(o.Status)).Observe(o.UpdatedAt.Sub(o.CreatedAt).Seconds())
	}
}

// sweep records what a sweep found.
func (m *Metrics) sweep(res order.SweepResult) {
	m.relayed.Add(float64(res.Relayed))
	m.relayLag.Set(res.RelayLag.Seconds())
	m.oldestPending.Set(res.OldestPending.Seconds())
}
