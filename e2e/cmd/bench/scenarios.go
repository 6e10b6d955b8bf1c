package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"shop/e2e/harness"
)

// figures are the numbers of a run by name (see docs/benchmarks.md for
// the names); medians and comparisons work on them.
type figures map[string]float64

func rateKey(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }

// bench is one run of the scenarios against one system.
type bench struct {
	cfg   config
	shop  *shop
	meter *meter
	log   io.Writer
	figs  figures
	// usage per scenario, for the report
	usage     map[string][]Usage
	timelines map[string]timeline
	notes     []string
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "  "+format+"\n", args...)
}

func (b *bench) note(format string, args ...any) {
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
	b.logf("note: "+format, args...)
}

// record stores the latency figures of s under prefix.
func (b *bench) record(prefix string, s Summary) {
	b.figs[prefix+"/p50_ms"] = s.P50
	b.figs[prefix+"/p90_ms"] = s.P90
	b.figs[prefix+"/p99_ms"] = s.P99
	b.figs[prefix+"/ok_per_s"] = s.Achieved
	b.figs[prefix+"/failed"] = float64(s.Failed)
}

func (b *bench) load(rate float64, d time.Duration) Load {
	return Load{Rate: rate, Duration: d, MaxInFlight: b.cfg.maxInFlight}
}

// overhead sends the same small request (GET /healthz of inventorysvc) to
// the app directly, through the app's own sidecar, and through the gateway
// (gateway sidecar -> app sidecar -> app).
func (b *bench) overhead(ctx context.Context) error {
	sys := b.shop.sys
	paths := []struct {
		name, url string
		header    http.Header
	}{
		{"direct", fmt.Sprintf("http://127.0.0.1:%d/healthz", sys.Port("inventorysvc")), nil},
		{"sidecar", fmt.Sprintf("http://127.0.0.1:%d/v1.0/invoke/%s/method/healthz", sys.Port("inventorysvc-dapr"), sys.AppIDs["inventorysvc"]),
			http.Header{"Dapr-Api-Token": {sys.SidecarToken("inventorysvc")}}},
		{"gateway", sys.InvokeURL("inventorysvc", "/healthz"), nil},
	}
	for _, rate := range b.cfg.overheadRates {
		b.quiet(ctx, fmt.Sprintf("overhead at %s/s", rateKey(rate)))
		// The paths take turns a second at a time, so that a disturbance
		// of the shared machine falls on all of them alike.
		results := make([][]Result, len(paths))
		for _, p := range paths {
			b.load(rate, time.Second).Run(ctx, b.shop.client, get(p.url, p.header)) // opens the connections
		}
		secs := max(int(b.cfg.overheadDuration.Seconds()), 1)
		for range secs {
			for i, p := range paths {
				results[i] = append(results[i], b.load(rate, time.Second).Run(ctx, b.shop.client, get(p.url, p.header))...)
			}
		}
		for i, p := range paths {
			s := summarize(b.load(rate, time.Duration(secs)*time.Second), results[i], http.StatusOK)
			// The path's seconds were apart: count its answers over its own.
			s.Achieved = float64(s.OK) / float64(secs)
			b.record("overhead/"+rateKey(rate)+"/"+p.name, s)
			b.logf("overhead %-7s %6.0f/s: p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  (%d failed)", p.name, rate, s.P50, s.P90, s.P99, s.Failed)
		}
		prefix := "overhead/" + rateKey(rate) + "/"
		for _, q := range []string{"p50_ms", "p90_ms", "p99_ms"} {
			b.figs[prefix+"hop1/added_"+q] = b.figs[prefix+"sidecar/"+q] - b.figs[prefix+"direct/"+q]
			b.figs[prefix+"hop2/added_"+q] = b.figs[prefix+"gateway/"+q] - b.figs[prefix+"sidecar/"+q]
		}
	}
	return ctx.Err()
}

// orderRun is the outcome of one open-loop run of order placements.
type orderRun struct {
	post      Summary
	accepted  int
	byStatus  map[string]int // final status of the accepted orders
	pending   int            // still pending grace after the load ended
	settle    time.Duration  // from the end of the load until none was pending (-1: not within the drain)
	saga      Summary        // created -> confirmed of the confirmed orders
	cpu       float64        // CPU seconds of the system from the load's start until settled
	window    time.Duration  // from the load's start until settled
	cpuUsage  []Usage
	confirmed int
	ended     int // accepted orders that left pending
	timeline  timeline
	calls     calls // the sidecars' calls from the load's start until settled
}

// timeline is a load's orders second by second from its start: accepted
// (by scheduled start), POST p99, and ended (by updated_at).
type timeline struct {
	Accepted [][2]float64 `json:"accepted_per_s"`
	PostP99  [][2]float64 `json:"post_p99_ms"`
	Ended    [][2]float64 `json:"ended_per_s"`
}

func newTimeline(start time.Time, results []Result, found map[string]order, ids map[string]int) timeline {
	var tl timeline
	lat := map[int][]time.Duration{}
	accepted := map[int]int{}
	last := 0
	for _, r := range results {
		sec := int(r.Intended.Sub(start) / time.Second)
		if r.Status == http.StatusAccepted {
			accepted[sec]++
			lat[sec] = append(lat[sec], r.Latency)
		}
		last = max(last, sec)
	}
	ended := map[int]int{}
	for id := range ids {
		if o, ok := found[id]; ok && o.Status != "pending" {
			sec := int(o.UpdatedAt.Sub(start) / time.Second)
			ended[sec]++
			last = max(last, sec)
		}
	}
	for sec := 0; sec <= last; sec++ {
		x := float64(sec)
		tl.Accepted = append(tl.Accepted, [2]float64{x, float64(accepted[sec])})
		tl.Ended = append(tl.Ended, [2]float64{x, float64(ended[sec])})
		if len(lat[sec]) > 0 {
			_, _, p99, _ := percentiles(lat[sec])
			tl.PostP99 = append(tl.PostP99, [2]float64{x, p99})
		}
	}
	return tl
}

// placeOrders runs an open-loop load of order placements by customers on
// skus (round robin), then follows every accepted order until it leaves
// pending: the orders still pending grace after the load are counted, and
// the saga's latency is taken from the orders' created_at and updated_at
// once all have ended (or the drain timeout passed).
func (b *bench) placeOrders(ctx context.Context, customers []customer, skus []string, rate float64, d, grace time.Duration) (orderRun, error) {
	b.quiet(ctx, fmt.Sprintf("orders at %s/s", rateKey(rate)))
	before, err := b.shop.scrapeCalls(ctx)
	if err != nil {
		return orderRun{}, err
	}
	mark := b.meter.mark()
	l := b.load(rate, d)
	l.KeepBodies = true
	results := l.Run(ctx, b.shop.client, b.shop.placeOrder(customers, skus))
	end := time.Now()
	run := orderRun{post: summarize(l, results, http.StatusAccepted), byStatus: map[string]int{}}
	ids := map[string]int{} // accepted order -> its customer
	for i, r := range results {
		if r.Status != http.StatusAccepted {
			continue
		}
		var o order
		if err := json.Unmarshal(r.Body, &o); err != nil || o.ID == "" {
			return run, fmt.Errorf("POST /orders answered 202 %q: no order id", r.Body)
		}
		ids[o.ID] = i % len(customers)
	}
	run.accepted = len(ids)
	found := map[string]order{}
	if err := b.shop.settle(ctx, customers, ids, found, time.Until(end.Add(grace))); err != nil {
		return run, err
	}
	run.pending = countPending(ids, found)
	run.settle = -1
	if run.pending == 0 {
		run.settle = time.Since(end)
	} else if err := b.shop.settle(ctx, customers, ids, found, b.cfg.drain); err != nil {
		return run, err
	} else if countPending(ids, found) == 0 {
		run.settle = time.Since(end)
	}
	run.cpuUsage = b.meter.since(mark)
	run.cpu = totalCPU(run.cpuUsage, benchProcess)
	run.window = time.Since(mark.at)
	if run.calls, err = b.shop.scrapeCalls(ctx); err != nil {
		return run, err
	}
	for k, v := range before {
		run.calls[k] -= v
	}
	var saga []time.Duration
	for id := range ids {
		o, ok := found[id]
		if !ok {
			run.byStatus["missing"]++
			continue
		}
		run.byStatus[o.Status]++
		if o.Status != "pending" {
			run.ended++
		}
		if o.Status == "confirmed" {
			saga = append(saga, o.UpdatedAt.Sub(o.CreatedAt))
		}
	}
	run.confirmed = len(saga)
	run.timeline = newTimeline(mark.at, results, found, ids)
	run.saga.Sent = len(saga)
	run.saga.P50, run.saga.P90, run.saga.P99, run.saga.Max = percentiles(saga)
	return run, nil
}

func countPending(ids map[string]int, found map[string]order) int {
	n := 0
	for id := range ids {
		if o, ok := found[id]; !ok || o.Status == "pending" {
			n++
		}
	}
	return n
}

func (b *bench) recordOrders(prefix string, r orderRun) {
	b.figs[prefix+"/accepted_per_s"] = r.post.Achieved
	b.figs[prefix+"/post_p50_ms"] = r.post.P50
	b.figs[prefix+"/post_p99_ms"] = r.post.P99
	b.figs[prefix+"/post_failed"] = float64(r.post.Failed)
	b.figs[prefix+"/saga_p50_ms"] = r.saga.P50
	b.figs[prefix+"/saga_p99_ms"] = r.saga.P99
	b.figs[prefix+"/confirmed"] = float64(r.confirmed)
	b.figs[prefix+"/confirmed_per_s"] = float64(r.confirmed) / r.window.Seconds()
	b.figs[prefix+"/ended_otherwise"] = float64(r.ended - r.confirmed)
	b.figs[prefix+"/pending_after_grace"] = float64(r.pending)
	b.figs[prefix+"/settle_s"] = r.settle.Seconds()
	if r.ended > 0 {
		b.perOrder(prefix+"/calls", r.calls, r.ended)
		b.figs[prefix+"/cpu_ms_per_order"] = r.cpu * 1000 / float64(r.ended)
		b.figs[prefix+"/cpu_ms_per_order_net"] = b.netCPU(r) * 1000 / float64(r.ended)
	}
}

// netCPU is the system's CPU time of r less what the idle system spends
// in as long (health checks, the cron binding, the broker's polling).
func (b *bench) netCPU(r orderRun) float64 {
	return max(r.cpu-b.figs["idle/cpu_share"]*r.window.Seconds(), 0)
}

// quiet waits until the system spends at most quietShare cores (or
// four times its idle share, if more) over a second: work left from an
// earlier load (requests its client gave up on, redeliveries) must not
// fall on the next one. It gives up after the drain timeout, with a note.
func (b *bench) quiet(ctx context.Context, what string) {
	const quietShare = 0.15
	limit := max(quietShare, 4*b.figs["idle/cpu_share"])
	start := time.Now()
	for {
		mark := b.meter.cpuNow()
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		share := totalCPU(b.meter.since(mark), benchProcess) / time.Since(mark.at).Seconds()
		if share <= limit {
			if waited := time.Since(start); waited > 2*time.Second {
				b.logf("waited %s for the system to go quiet before %s", waited.Round(time.Second), what)
			}
			return
		}
		if time.Since(start) > b.cfg.drain {
			b.note("%s started on a busy system: %.2f cores after %s of waiting", what, share, b.cfg.drain)
			return
		}
	}
}

// idle measures the CPU the system spends with no load, in cores.
func (b *bench) idle(ctx context.Context, d time.Duration) {
	mark := b.meter.mark()
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	b.figs["idle/cpu_share"] = totalCPU(b.meter.since(mark), benchProcess) / d.Seconds()
	b.logf("idle system: %.3f cores", b.figs["idle/cpu_share"])
}

func (b *bench) logOrders(name string, rate float64, r orderRun) {
	b.logf("%s %5.0f/s: accepted %.1f/s  POST p50 %.1f ms p99 %.1f ms  saga p50 %.0f ms p99 %.0f ms  pending after grace %d  settled %s  %v  CPU/order (net of idle) %.1f ms",
		name, rate, r.post.Achieved, r.post.P50, r.post.P99, r.saga.P50, r.saga.P99, r.pending, fmtSettle(r.settle), r.byStatus, b.netCPU(r)*1000/float64(max(r.ended, 1)))
	if r.post.Failed > 0 {
		b.logf("  POST answers: %v", r.post.Statuses)
	}
}

func fmtSettle(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return d.Round(100 * time.Millisecond).String()
}

// catalog creates n products with plenty of stock.
func (b *bench) catalog(ctx context.Context, admin string, n, stock int) ([]string, error) {
	skus := make([]string, n)
	for i := range skus {
		var err error
		if skus[i], err = b.shop.newProduct(ctx, admin, stock); err != nil {
			return nil, err
		}
	}
	return skus, nil
}

// buyers registers the scenario's customers and creates its products,
// with plenty of stock.
func (b *bench) buyers(ctx context.Context, admin string) ([]customer, []string, error) {
	customers, err := b.shop.newCustomers(ctx, b.cfg.customers)
	if err != nil {
		return nil, nil, err
	}
	skus, err := b.catalog(ctx, admin, b.cfg.products, 1_000_000)
	return customers, skus, err
}

// orders places orders through the gateway at each rate of the list:
// accepted orders per second, POST latency, and the saga's created ->
// confirmed latency.
func (b *bench) orders(ctx context.Context, admin string) error {
	customers, skus, err := b.buyers(ctx, admin)
	if err != nil {
		return err
	}
	var cpu, net float64
	var ended int
	for _, rate := range b.cfg.orderRates {
		r, err := b.placeOrders(ctx, customers, skus, rate, b.cfg.orderDuration, b.cfg.grace)
		if err != nil {
			return err
		}
		b.recordOrders("orders/"+rateKey(rate), r)
		b.usage[fmt.Sprintf("orders at %s/s", rateKey(rate))] = r.cpuUsage
		b.logOrders("orders", rate, r)
		cpu += r.cpu
		net += b.netCPU(r)
		ended += r.ended
	}
	if ended > 0 {
		b.figs["orders/cpu_ms_per_order"] = cpu * 1000 / float64(ended)
		b.figs["orders/cpu_ms_per_order_net"] = net * 1000 / float64(ended)
	}
	return nil
}

// sustain finds the highest rate of the list that the saga keeps up with
// for the sustain duration: every POST accepted, and no order pending
// grace after the load ends. It starts at the highest rate the orders
// scenario kept up with, goes up while the saga keeps up, and down while
// it does not.
func (b *bench) sustain(ctx context.Context, admin string) error {
	customers, skus, err := b.buyers(ctx, admin)
	if err != nil {
		return err
	}
	rates := append([]float64(nil), b.cfg.orderRates...)
	sort.Float64s(rates)
	i := 0
	for j, r := range rates {
		if p, ok := b.figs["orders/"+rateKey(r)+"/pending_after_grace"]; ok && p == 0 && b.figs["orders/"+rateKey(r)+"/post_failed"] == 0 {
			i = j
		}
	}
	best := 0.0
	tried := map[int]bool{}
	for attempt := 0; attempt < b.cfg.sustainAttempts && i >= 0 && i < len(rates) && !tried[i]; attempt++ {
		tried[i] = true
		rate := rates[i]
		r, err := b.placeOrders(ctx, customers, skus, rate, b.cfg.sustainDuration, b.cfg.grace)
		if err != nil {
			return err
		}
		kept := r.pending == 0 && r.post.Failed == 0
		prefix := "sustain/" + rateKey(rate)
		b.recordOrders(prefix, r)
		b.figs[prefix+"/kept_up"] = boolFig(kept)
		b.usage[fmt.Sprintf("sustain at %s/s", rateKey(rate))] = r.cpuUsage
		b.timelines["sustain at "+rateKey(rate)+"/s"] = r.timeline
		b.logOrders(fmt.Sprintf("sustain %s", b.cfg.sustainDuration), rate, r)
		switch {
		case kept:
			best = max(best, rate)
			i++
		case best > 0:
			i = len(rates) // the next rate up failed: done
		default:
			i--
		}
	}
	b.figs["sustain/max_rate"] = best
	return nil
}

func boolFig(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

// flash sells one product with less stock than the demand: every order is
// for it (one hot record), and exactly the stock may be confirmed.
func (b *bench) flash(ctx context.Context, admin string) error {
	customers, err := b.shop.newCustomers(ctx, b.cfg.customers)
	if err != nil {
		return err
	}
	sku, err := b.shop.newProduct(ctx, admin, b.cfg.flashStock)
	if err != nil {
		return err
	}
	d := time.Duration(float64(b.cfg.flashOrders) / b.cfg.flashRate * float64(time.Second))
	r, err := b.placeOrders(ctx, customers, []string{sku}, b.cfg.flashRate, d, b.cfg.grace)
	if err != nil {
		return err
	}
	b.recordOrders("flash", r)
	b.figs["flash/stock"] = float64(b.cfg.flashStock)
	b.figs["flash/demand"] = float64(r.post.Sent)
	b.figs["flash/rejected"] = float64(r.byStatus["rejected"])
	b.figs["flash/cancelled"] = float64(r.byStatus["cancelled"])
	b.usage["flash sale"] = r.cpuUsage
	b.timelines["flash sale"] = r.timeline
	b.logOrders("flash", b.cfg.flashRate, r)
	if r.confirmed > b.cfg.flashStock {
		b.note("flash sale: %d orders confirmed for a stock of %d (oversold)", r.confirmed, b.cfg.flashStock)
	}
	return nil
}

// reads measures GET /products and a customer's GET /orders (a first
// page of ten) with few orders and with many. The many are placed through the API
// beforehand, a few at a time, and not measured.
func (b *bench) reads(ctx context.Context, admin string) error {
	users, err := b.shop.newCustomers(ctx, 2)
	if err != nil {
		return err
	}
	few, many := users[0], users[1]
	skus, err := b.catalog(ctx, admin, 1, 1_000_000)
	if err != nil {
		return err
	}
	n, _ := b.seed(ctx, few, skus[0], b.cfg.fewOrders, time.Minute)
	b.figs["reads/few_orders"] = float64(n)
	if n < b.cfg.fewOrders {
		b.note("reads: only %d of %d orders seeded for the customer with few orders", n, b.cfg.fewOrders)
	}
	start := time.Now()
	n, err = b.seed(ctx, many, skus[0], b.cfg.manyOrders, b.cfg.seedTimeout)
	took := time.Since(start)
	b.figs["reads/seeded_orders"] = float64(n)
	b.figs["reads/seed_per_s"] = float64(n) / took.Seconds()
	b.logf("reads: seeded %d orders for one customer through POST /orders in %s (%.0f/s)", n, took.Round(time.Second), float64(n)/took.Seconds())
	if n < b.cfg.manyOrders {
		b.note("reads: %d of %d orders seeded for the customer with many orders within %s (%v)", n, b.cfg.manyOrders, b.cfg.seedTimeout, err)
	}
	// Wait for the sagas of the seeded orders, so that reads run on a quiet system.
	if err := harness.Eventually(ctx, b.cfg.drain, func() error {
		list, err := b.shop.orders(ctx, many)
		if err != nil {
			return err
		}
		for _, o := range list {
			if o.Status == "pending" {
				return fmt.Errorf("order %s still pending", o.ID)
			}
		}
		return nil
	}); err != nil {
		b.note("reads: seeded orders still pending when the reads started: %v", err)
	}
	targets := []struct {
		name string
		url  string
		h    http.Header
	}{
		{"products", b.shop.sys.InvokeURL("inventorysvc", "/products"), nil},
		{"orders_few", b.shop.sys.InvokeURL("ordersvc", "/orders?page_size=10"), bearer(few.Token)},
		{"orders_many", b.shop.sys.InvokeURL("ordersvc", "/orders?page_size=10"), bearer(many.Token)},
	}
	for _, rate := range b.cfg.readRates {
		for _, t := range targets {
			b.quiet(ctx, fmt.Sprintf("%s at %s/s", t.name, rateKey(rate)))
			l := b.load(rate, b.cfg.readDuration)
			s := summarize(l, l.Run(ctx, b.shop.client, get(t.url, t.h)), http.StatusOK)
			b.record("reads/"+rateKey(rate)+"/"+t.name, s)
			b.logf("reads %-11s %5.0f/s: p50 %.1f ms  p90 %.1f ms  p99 %.1f ms  (%d failed)", t.name, rate, s.P50, s.P90, s.P99, s.Failed)
		}
	}
	return nil
}

// seed places n orders for c, eight at a time, until timeout; it returns
// how many were accepted.
func (b *bench) seed(ctx context.Context, c customer, sku string, n int, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	place := b.shop.placeOrder([]customer{c}, []string{sku})
	var mu sync.Mutex
	var next, done int
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				status, body, err := place(ctx, b.shop.client, i)
				mu.Lock()
				if status == http.StatusAccepted {
					done++
				} else if firstErr == nil {
					firstErr = fmt.Errorf("POST /orders = %d %s: %v", status, body, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return done, firstErr
}
