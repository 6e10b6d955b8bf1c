package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"shop/e2e/harness"
)

// results is what results.json holds: enough to write the report again
// and to be the baseline of a later run.
type results struct {
	Meta   meta              `json:"meta"`
	Config map[string]string `json:"config"`
	Runs   []runResult       `json:"runs"`
	// Median is the median of each figure over the runs.
	Median figures `json:"median"`
}

// runResult is one run on a fresh system.
type runResult struct {
	Figures figures `json:"figures"`
	// Usage is each process's CPU time and peak memory over all the
	// scenarios; Lifetime since each process started (start-up included).
	Usage         []Usage            `json:"usage"`
	Lifetime      []Usage            `json:"lifetime"`
	ScenarioUsage map[string][]Usage `json:"scenario_usage"`
	// Timelines are the sustain attempts and the flash sale second by second.
	Timelines map[string]timeline `json:"timelines"`
	Notes     []string            `json:"notes,omitempty"`
}

// meta says what was measured, where.
type meta struct {
	Started     time.Time `json:"started"`
	Command     string    `json:"command"`
	Profile     string    `json:"profile"`
	Daprd       string    `json:"daprd"`
	Go          string    `json:"go"`
	Commit      string    `json:"commit"`
	CPUs        int       `json:"cpus"`
	CPUModel    string    `json:"cpu_model"`
	MemoryGB    float64   `json:"memory_gb"`
	Kernel      string    `json:"kernel"`
	LoadAverage string    `json:"load_average_at_start"`
	LoadEnd     string    `json:"load_average_at_end"`
}

func describe(ctx context.Context, cfg config) meta {
	m := meta{
		Started: time.Now().UTC(), Command: "go run ./e2e/cmd/bench " + strings.Join(os.Args[1:], " "),
		Profile: cfg.profile, Go: runtime.Version(), CPUs: runtime.NumCPU(),
	}
	daprd := os.Getenv("DAPRD")
	if daprd == "" {
		home, _ := os.UserHomeDir()
		daprd = filepath.Join(home, ".dapr", "bin", "daprd")
	}
	m.Daprd = output(ctx, daprd, "--version")
	if m.Daprd == "" {
		m.Daprd = harness.DaprdVersion
	}
	for _, line := range strings.Split(output(ctx, daprd, "--build-info"), "\n") {
		if v, ok := strings.CutPrefix(line, "Git Version: "); ok && v != "" {
			m.Daprd += " (" + v + ")"
		}
	}
	m.Commit = output(ctx, "git", "describe", "--always", "--dirty")
	m.Kernel = output(ctx, "uname", "-sr")
	m.LoadAverage = loadAverage()
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	var kb float64
	fmt.Sscanf(procField("/proc/meminfo", "MemTotal"), "%f", &kb)
	m.MemoryGB = math.Round(kb/(1<<20)*10) / 10
	return m
}

// loadAverage is the 1, 5 and 15 minute load average: other work on the
// machine shows in it.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return ""
}

func output(ctx context.Context, name string, args ...string) string {
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// procField is the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (c config) describe() map[string]string {
	rates := func(rs []float64) string {
		s := make([]string, len(rs))
		for i, r := range rs {
			s[i] = rateKey(r)
		}
		return strings.Join(s, ",")
	}
	return map[string]string{
		"scenarios": strings.Join(c.scenarios, ","), "runs": fmt.Sprint(c.runs), "gateway_rate_limit": fmt.Sprint(c.rateLimit),
		"customers": fmt.Sprint(c.customers), "products": fmt.Sprint(c.products), "grace": c.grace.String(), "drain": c.drain.String(),
		"overhead_rates": rates(c.overheadRates), "overhead_duration": c.overheadDuration.String(),
		"order_rates": rates(c.orderRates), "order_duration": c.orderDuration.String(),
		"sustain_duration": c.sustainDuration.String(), "sustain_attempts": fmt.Sprint(c.sustainAttempts),
		"flash":      fmt.Sprintf("%d orders at %s/s, stock %d", c.flashOrders, rateKey(c.flashRate), c.flashStock),
		"read_rates": rates(c.readRates), "read_duration": c.readDuration.String(),
		"orders_of_readers": fmt.Sprintf("%d and %d", c.fewOrders, c.manyOrders),
	}
}

// median is each figure's median over the runs that have it.
func median(runs []runResult) figures {
	vals := map[string][]float64{}
	for _, r := range runs {
		for k, v := range r.Figures {
			vals[k] = append(vals[k], v)
		}
	}
	out := figures{}
	for k, vs := range vals {
		sort.Float64s(vs)
		if n := len(vs); n%2 == 1 {
			out[k] = vs[n/2]
		} else {
			out[k] = (vs[n/2-1] + vs[n/2]) / 2
		}
	}
	return out
}

func readResults(path string) (*results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	var r results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	return &r, nil
}

// write writes results.json, report.md and the plots into dir.
func (r *results) write(dir string, baseline *results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644); err != nil {
		return err
	}
	for name, svg := range r.plots() {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(svg), 0o644); err != nil {
			return err
		}
	}
	var md strings.Builder
	r.markdown(&md, baseline)
	return os.WriteFile(filepath.Join(dir, "report.md"), []byte(md.String()), 0o644)
}

// rates are the rates that figures under prefix+"/<rate>/"+suffix exist for.
func (f figures) rates(prefix, suffix string) []float64 {
	var out []float64
	for k := range f {
		rest, ok := strings.CutPrefix(k, prefix+"/")
		if !ok {
			continue
		}
		rate, tail, ok := strings.Cut(rest, "/")
		if !ok || tail != suffix {
			continue
		}
		var v float64
		if _, err := fmt.Sscanf(rate, "%g", &v); err == nil {
			out = append(out, v)
		}
	}
	sort.Float64s(out)
	return out
}

func (f figures) has(k string) bool { _, ok := f[k]; return ok }

// cell formats the figure k, or "-" when the run has none.
func (f figures) cell(k, format string) string {
	v, ok := f[k]
	if !ok {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

func (f figures) settle(k string) string {
	v, ok := f[k]
	switch {
	case !ok:
		return "-"
	case v < 0:
		return "not within the drain"
	}
	return fmt.Sprintf("%.1f s", v)
}

type table struct {
	head []string
	rows [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t table) write(w io.Writer) {
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(t.head, " | "), strings.Repeat("---|", len(t.head)))
	for _, r := range t.rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
	fmt.Fprintln(w)
}

// tables are the report's tables of the median figures, by section.
func (r *results) tables() []struct {
	title, intro string
	t            table
} {
	f := r.Median
	var out []struct {
		title, intro string
		t            table
	}
	add := func(title, intro string, t table) {
		if len(t.rows) > 0 {
			out = append(out, struct {
				title, intro string
				t            table
			}{title, intro, t})
		}
	}

	ov := table{head: []string{"path", "rate", "p50", "p90", "p99", "answered/s", "failed"}}
	for _, rate := range f.rates("overhead", "direct/p50_ms") {
		p := "overhead/" + rateKey(rate) + "/"
		for _, path := range []struct{ key, name string }{{"direct", "app directly"}, {"sidecar", "app's sidecar -> app"}, {"gateway", "gateway -> sidecar -> app"}} {
			k := p + path.key + "/"
			ov.add(path.name, rateKey(rate)+"/s", f.cell(k+"p50_ms", "%.2f ms"), f.cell(k+"p90_ms", "%.2f ms"), f.cell(k+"p99_ms", "%.2f ms"), f.cell(k+"ok_per_s", "%.0f"), f.cell(k+"failed", "%.0f"))
		}
		for _, hop := range []struct{ key, name string }{{"hop1", "added by the first sidecar"}, {"hop2", "added by the second sidecar"}} {
			k := p + hop.key + "/added_"
			ov.add("*"+hop.name+"*", rateKey(rate)+"/s", f.cell(k+"p50_ms", "%+.2f ms"), f.cell(k+"p90_ms", "%+.2f ms"), f.cell(k+"p99_ms", "%+.2f ms"), "", "")
		}
	}
	add("Sidecar overhead", "GET /healthz of inventorysvc: to the app's port, through its own sidecar (`/v1.0/invoke/<its app id>/method/healthz`), and through the gateway sidecar.", ov)

	orderTable := func(prefix string, extra bool) table {
		t := table{head: []string{"offered/s", "accepted/s", "POST p50", "POST p99", "saga p50", "saga p99", "confirmed", "rejected or cancelled", "pending after grace", "all ended", "CPU/order", "CPU/order net of idle"}}
		if extra {
			t.head = append(t.head, "kept up")
		}
		for _, rate := range f.rates(prefix, "accepted_per_s") {
			k := prefix + "/" + rateKey(rate) + "/"
			row := []string{rateKey(rate), f.cell(k+"accepted_per_s", "%.1f"), f.cell(k+"post_p50_ms", "%.1f ms"), f.cell(k+"post_p99_ms", "%.1f ms"),
				f.cell(k+"saga_p50_ms", "%.0f ms"), f.cell(k+"saga_p99_ms", "%.0f ms"), f.cell(k+"confirmed", "%.0f"), f.cell(k+"ended_otherwise", "%.0f"), f.cell(k+"pending_after_grace", "%.0f"),
				f.settle(k + "settle_s"), f.cell(k+"cpu_ms_per_order", "%.1f ms"), f.cell(k+"cpu_ms_per_order_net", "%.1f ms")}
			if extra {
				row = append(row, map[bool]string{true: "yes", false: "no"}[f[k+"kept_up"] == 1])
			}
			t.add(row...)
		}
		return t
	}
	add("Orders through the gateway", fmt.Sprintf("POST /orders (one line, one unit, `tok_visa`, an Idempotency-Key each) at a fixed arrival rate; saga = `updated_at - created_at` of the confirmed orders; *all ended* is the time from the end of the load until no order was pending; CPU/order is the CPU time of every app, sidecar and the broker from the load's start until all ended, over the orders that ended; *net of idle* subtracts what the idle system spends in as long (%s cores, measured before the scenarios).", f.cell("idle/cpu_share", "%.3f")), orderTable("orders", false))
	add("Sidecar calls per order", "What the orders above cost in calls, counted by every sidecar's metrics (`dapr_grpc_io_server_completed_rpcs`: the app's gRPC API calls; `dapr_http_server_request_count`: its HTTP API; `dapr_http_client_completed_count`: the sidecar's calls to its app, by path; `dapr_runtime_service_invocation_req_sent_total`: invocations sent) from each load's start until its orders ended, over the orders that ended. It includes the benchmark's status polling after each load (one `GET /orders` page per customer with a pending order, once a second); *to app* counts every call a sidecar made to its app: event deliveries, invocations and the cron binding's calls.", callTable(f, "orders"))
	st := orderTable("sustain", true)
	if f.has("sustain/max_rate") {
		st.add(fmt.Sprintf("**highest kept up: %s/s**", rateKey(f["sustain/max_rate"])))
	}
	add("Sustained saga", fmt.Sprintf("Each attempt places orders for %s; it kept up when every POST was accepted and no order was pending %s after the load ended.", r.Config["sustain_duration"], r.Config["grace"]), st)

	add("Orders while profiled", "The profile scenario: orders as above while every app and sidecar serves a CPU profile (profiling costs a little CPU itself); the profiles are in pprof/ (`go tool pprof -top pprof/<process>.pprof`, or the saved `.top.txt`).", orderTable("profile", false))

	if f.has("flash/accepted_per_s") {
		ft := table{head: []string{"demand", "stock", "accepted", "confirmed", "rejected", "cancelled", "pending after grace", "all ended", "POST p50", "POST p99", "saga p50 (confirmed)", "saga p99 (confirmed)"}}
		ft.add(f.cell("flash/demand", "%.0f"), f.cell("flash/stock", "%.0f"), f.cell("flash/accepted_per_s", "%.1f/s"), f.cell("flash/confirmed", "%.0f"), f.cell("flash/rejected", "%.0f"),
			f.cell("flash/cancelled", "%.0f"), f.cell("flash/pending_after_grace", "%.0f"), f.settle("flash/settle_s"), f.cell("flash/post_p50_ms", "%.1f ms"), f.cell("flash/post_p99_ms", "%.1f ms"),
			f.cell("flash/saga_p50_ms", "%.0f ms"), f.cell("flash/saga_p99_ms", "%.0f ms"))
		add("Flash sale", "Every order for one product whose stock is smaller than the demand (one hot record): "+r.Config["flash"]+".", ft)
	}

	rt := table{head: []string{"request", "rate", "p50", "p90", "p99", "answered/s", "failed"}}
	names := map[string]string{"products": "GET /products", "orders_few": fmt.Sprintf("GET /orders?page_size=10, %s orders", f.cell("reads/few_orders", "%.0f")), "orders_many": fmt.Sprintf("GET /orders?page_size=10, %s orders", f.cell("reads/seeded_orders", "%.0f"))}
	for _, rate := range f.rates("reads", "products/p50_ms") {
		for _, t := range []string{"products", "orders_few", "orders_many"} {
			k := "reads/" + rateKey(rate) + "/" + t + "/"
			rt.add(names[t], rateKey(rate)+"/s", f.cell(k+"p50_ms", "%.1f ms"), f.cell(k+"p90_ms", "%.1f ms"), f.cell(k+"p99_ms", "%.1f ms"), f.cell(k+"ok_per_s", "%.0f"), f.cell(k+"failed", "%.0f"))
		}
	}
	add("Reads", fmt.Sprintf("Through the gateway. The customer's orders were placed through POST /orders beforehand (%s orders/s, not measured), and their sagas had ended.", f.cell("reads/seed_per_s", "%.0f")), rt)

	tt := table{head: []string{"target", "measured"}}
	if f.has("sustain/max_rate") {
		rate := f["sustain/max_rate"]
		tt.add("saga keeps up with 300 orders/s for 60 s, p99 < 250 ms", fmt.Sprintf("highest kept up %s/s, saga p99 there %s", rateKey(rate), f.cell("sustain/"+rateKey(rate)+"/saga_p99_ms", "%.0f ms")))
	}
	if f.has("orders/300/post_p99_ms") {
		tt.add("POST /orders p99 < 25 ms at 300 orders/s", f.cell("orders/300/post_p99_ms", "%.1f ms"))
	}
	if f.has("orders/100/saga_p99_ms") {
		tt.add("saga p99 < 100 ms at 100 orders/s", f.cell("orders/100/saga_p99_ms", "%.0f ms"))
	}
	if f.has("orders/cpu_ms_per_order") {
		tt.add("CPU per order <= 5 ms (all processes)", f.cell("orders/cpu_ms_per_order", "%.1f ms")+", net of idle "+f.cell("orders/cpu_ms_per_order_net", "%.1f ms")+" (orders scenario, all rates)")
	}
	for _, rate := range f.rates("reads", "orders_many/p99_ms") {
		k := "reads/" + rateKey(rate) + "/"
		if few := f[k+"orders_few/p99_ms"]; few > 0 {
			tt.add("GET /orders p99 with many orders within 20% of with few, "+rateKey(rate)+"/s", fmt.Sprintf("%.1f ms vs %.1f ms (%+.0f%%)", f[k+"orders_many/p99_ms"], few, (f[k+"orders_many/p99_ms"]/few-1)*100))
		}
	}
	for _, rate := range f.rates("overhead", "hop1/added_p90_ms") {
		k := "overhead/" + rateKey(rate) + "/"
		tt.add("added p90 per sidecar hop <= 1.5 ms at "+rateKey(rate)+" req/s", fmt.Sprintf("%+.2f ms, %+.2f ms", f[k+"hop1/added_p90_ms"], f[k+"hop2/added_p90_ms"]))
	}
	if len(tt.rows) > 0 {
		out = append([]struct {
			title, intro string
			t            table
		}{{"Targets", "The targets of issue 13 and DESIGN.md (the redis profile's share of the local profile's rate: compare two reports).", tt}}, out...)
	}
	return out
}

// callTable has a row per sidecar call of the orders scenario and a
// column per rate: calls per order.
func callTable(f figures, prefix string) table {
	rates := f.rates(prefix, "calls_total")
	t := table{head: []string{"sidecar", "call"}}
	names := map[string]bool{}
	for _, rate := range rates {
		t.head = append(t.head, rateKey(rate)+"/s")
		p := prefix + "/" + rateKey(rate) + "/calls/"
		for k := range f {
			if name, ok := strings.CutPrefix(k, p); ok {
				names[name] = true
			}
		}
	}
	for _, name := range sortedKeys(names) {
		sidecar, call, _ := strings.Cut(name, "/")
		row := []string{sidecar, call}
		for _, rate := range rates {
			row = append(row, f.cell(prefix+"/"+rateKey(rate)+"/calls/"+name, "%.2f"))
		}
		t.add(row...)
	}
	if len(rates) > 0 {
		row := []string{"**all**", "**calls per order**"}
		for _, rate := range rates {
			row = append(row, f.cell(prefix+"/"+rateKey(rate)+"/calls_total", "**%.1f**"))
		}
		t.add(row...)
	}
	return t
}

// usageTable has a row per process: its CPU seconds and share over all,
// its share in each scenario's load, and its peak memory.
func usageTable(all []Usage, scenarios map[string][]Usage) table {
	names := sortedKeys(scenarios)
	t := table{head: append(append([]string{"process", "CPU s", "share"}, names...), "peak RSS")}
	share := map[string]map[string]float64{}
	for _, n := range names {
		share[n] = map[string]float64{}
		for _, u := range scenarios[n] {
			share[n][u.Process] = u.CPUShare
		}
	}
	total := Usage{Process: "**system (all but the load generator)**"}
	sums := map[string]float64{}
	for _, u := range all {
		row := []string{u.Process, fmt.Sprintf("%.1f", u.CPUSeconds), fmt.Sprintf("%.2f", u.CPUShare)}
		for _, n := range names {
			row = append(row, fmt.Sprintf("%.2f", share[n][u.Process]))
		}
		t.add(append(row, fmt.Sprintf("%.0f MB", u.PeakRSSMB))...)
		if u.Process != benchProcess {
			total.CPUSeconds += u.CPUSeconds
			total.CPUShare += u.CPUShare
			for _, n := range names {
				sums[n] += share[n][u.Process]
			}
		}
	}
	row := []string{total.Process, fmt.Sprintf("%.1f", total.CPUSeconds), fmt.Sprintf("%.2f", total.CPUShare)}
	for _, n := range names {
		row = append(row, fmt.Sprintf("%.2f", sums[n]))
	}
	t.add(append(row, "")...)
	return t
}

func (r *results) markdown(w io.Writer, baseline *results) {
	m := r.Meta
	fmt.Fprintf(w, "# Benchmark, profile %s, %s\n\n", m.Profile, m.Started.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "`%s` · commit %s · daprd %s · %s · %d CPUs (%s), %.1f GB · %s · load average %s at the start, %s at the end · %d run(s), figures are medians\n\n",
		m.Command, m.Commit, m.Daprd, m.Go, m.CPUs, m.CPUModel, m.MemoryGB, m.Kernel, m.LoadAverage, m.LoadEnd, len(r.Runs))
	fmt.Fprintln(w, "The load generator runs on the same machine and its CPU is not counted in the system's. Latencies are from each request's scheduled start (open loop).")
	fmt.Fprintln(w)
	for _, s := range r.tables() {
		fmt.Fprintf(w, "## %s\n\n%s\n\n", s.title, s.intro)
		s.t.write(w)
	}
	fmt.Fprintln(w, "## Plots")
	fmt.Fprintln(w)
	for _, name := range sortedKeys(r.plots()) {
		fmt.Fprintf(w, "![%s](%s)\n\n", strings.TrimSuffix(name, ".svg"), name)
	}
	if len(r.Runs) > 0 {
		run := r.Runs[0]
		fmt.Fprintf(w, "## CPU and memory (run 1)\n\nCPU share (1 = one core) of each process over all the scenarios (set-up of users and products included) and in each load, and its peak resident memory over all the scenarios:\n\n")
		usageTable(run.Usage, run.ScenarioUsage).write(w)
		for i, run := range r.Runs {
			for _, n := range run.Notes {
				fmt.Fprintf(w, "- run %d: %s\n", i+1, n)
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "## Settings")
	fmt.Fprintln(w)
	cfg := table{head: []string{"setting", "value"}}
	for _, k := range sortedKeys(r.Config) {
		cfg.add(k, r.Config[k])
	}
	cfg.write(w)
	if baseline != nil {
		fmt.Fprintf(w, "## Against the baseline of %s (%s)\n\n", baseline.Meta.Started.Format("2006-01-02 15:04"), baseline.Meta.Profile)
		comparison(baseline, r).write(w)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// comparison is every figure that both results have, with now / before.
func comparison(before, now *results) table {
	t := table{head: []string{"figure", "baseline", "now", "now / baseline"}}
	for _, k := range sortedKeys(now.Median) {
		old, ok := before.Median[k]
		if !ok {
			continue
		}
		ratio := "-"
		if old != 0 {
			ratio = fmt.Sprintf("%.2f", now.Median[k]/old)
		}
		t.add(k, fmt.Sprintf("%.4g", old), fmt.Sprintf("%.4g", now.Median[k]), ratio)
	}
	return t
}

func printTable(w io.Writer, r *results) {
	fmt.Fprintln(w)
	for _, s := range r.tables() {
		fmt.Fprintf(w, "%s\n", s.title)
		s.t.write(w)
	}
}

func printComparison(w io.Writer, before, now *results) {
	fmt.Fprintf(w, "against the baseline of %s (%s):\n", before.Meta.Started.Format("2006-01-02 15:04"), before.Meta.Profile)
	comparison(before, now).write(w)
}

// plots are the report's SVG plots by file name.
func (r *results) plots() map[string]string {
	f := r.Median
	out := map[string]string{}
	pts := func(prefix, suffix string) [][2]float64 {
		var p [][2]float64
		for _, rate := range f.rates(prefix, suffix) {
			p = append(p, [2]float64{rate, f[prefix+"/"+rateKey(rate)+"/"+suffix]})
		}
		return p
	}
	if rates := f.rates("orders", "accepted_per_s"); len(rates) > 0 {
		offered := make([][2]float64, len(rates))
		for i, rate := range rates {
			offered[i] = [2]float64{rate, rate}
		}
		out["orders-throughput.svg"] = lineChart("Orders: throughput", "offered orders/s", "orders/s", []series{
			{name: "offered", points: offered, dashed: true}, {name: "accepted", points: pts("orders", "accepted_per_s")}, {name: "confirmed (until all ended)", points: pts("orders", "confirmed_per_s")}})
		out["orders-post-latency.svg"] = lineChart("POST /orders latency", "offered orders/s", "ms", []series{
			{name: "p50", points: pts("orders", "post_p50_ms")}, {name: "p99", points: pts("orders", "post_p99_ms")}})
		out["orders-saga-latency.svg"] = lineChart("Saga: created -> confirmed", "offered orders/s", "ms", []series{
			{name: "p50", points: pts("orders", "saga_p50_ms")}, {name: "p99", points: pts("orders", "saga_p99_ms")}})
	}
	for _, rate := range f.rates("overhead", "direct/p50_ms") {
		k := "overhead/" + rateKey(rate) + "/"
		var ss []series
		for _, q := range []string{"p50", "p90", "p99"} {
			var p [][2]float64
			for i, path := range []string{"direct", "sidecar", "gateway"} {
				p = append(p, [2]float64{float64(i) + 0.5, f[k+path+"/"+q+"_ms"]})
			}
			ss = append(ss, series{name: q, points: p})
		}
		out["overhead-"+rateKey(rate)+".svg"] = barChart("GET /healthz at "+rateKey(rate)+" req/s", "ms", []string{"app", "sidecar -> app", "gateway -> sidecar -> app"}, ss)
	}
	if len(r.Runs) > 0 {
		for name, tl := range r.Runs[0].Timelines {
			file := strings.NewReplacer(" ", "-", "/", "").Replace(name)
			out["timeline-"+file+".svg"] = lineChart(name+" (run 1): orders per second", "seconds from the start of the load", "orders/s", []series{
				{name: "accepted", points: tl.Accepted}, {name: "ended (updated_at)", points: tl.Ended}})
			out["timeline-"+file+"-post-p99.svg"] = lineChart(name+" (run 1): POST /orders p99 per second", "seconds from the start of the load", "ms", []series{
				{name: "POST p99", points: tl.PostP99}})
		}
	}
	if len(f.rates("reads", "products/p99_ms")) > 0 {
		out["reads-latency.svg"] = lineChart("Reads: p99", "req/s", "ms", []series{
			{name: "GET /products", points: pts("reads", "products/p99_ms")},
			{name: "GET /orders, few", points: pts("reads", "orders_few/p99_ms")},
			{name: "GET /orders, many", points: pts("reads", "orders_many/p99_ms")}})
	}
	return out
}
