// Command bench measures the shop: it starts a whole system on a profile
// with the end-to-end harness (the services, real daprd sidecars, the
// profile's broker and stores), drives it through the gateway with an
// open-loop load at fixed arrival rates, prints a table and writes a report
// folder (report.md, results.json and SVG plots).
//
//	go run ./e2e/cmd/bench                          every scenario, local profile
//	go run ./e2e/cmd/bench -profile redis
//	go run ./e2e/cmd/bench -baseline old/results.json   and the ratio per figure
//	go run ./e2e/cmd/bench -smoke                   a few seconds at a low rate
//
// docs/benchmarks.md describes the scenarios and every figure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"shop/e2e/harness"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// config is what the flags choose.
type config struct {
	profile     string
	out         string
	runs        int
	baseline    string
	scenarios   []string
	rateLimit   int
	maxInFlight int
	customers   int
	products    int
	drain       time.Duration
	grace       time.Duration

	overheadRates    []float64
	overheadDuration time.Duration
	orderRates       []float64
	orderDuration    time.Duration
	sustainDuration  time.Duration
	sustainAttempts  int
	flashOrders      int
	flashStock       int
	flashRate        float64
	readRates        []float64
	readDuration     time.Duration
	fewOrders        int
	manyOrders       int
	seedTimeout      time.Duration
	pprofRate        float64
	pprofDuration    time.Duration
	keepLogs         bool
	traceSampling    string
}

var allScenarios = []string{"overhead", "orders", "sustain", "flash", "reads", "profile"}

// defaultScenarios leave out profile, which starts the system with
// profiling servers and takes CPU profiles under load.
var defaultScenarios = allScenarios[:5]

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&c.profile, "profile", "local", "components profile to start the system on")
	fs.StringVar(&c.out, "out", "", "report folder (default bench-results/<time>-<profile>)")
	fs.IntVar(&c.runs, "runs", 1, "runs, each on a fresh system; figures are the medians")
	fs.StringVar(&c.baseline, "baseline", "", "results.json of an earlier run to compare with")
	scenarios := fs.String("scenarios", strings.Join(defaultScenarios, ","), "scenarios to run, of "+strings.Join(allScenarios, ","))
	fs.IntVar(&c.rateLimit, "gateway-rate-limit", 1_000_000, "the gateway's rate limit for the run (requests/s per client address)")
	fs.IntVar(&c.maxInFlight, "max-in-flight", 4096, "most requests outstanding at once")
	fs.IntVar(&c.customers, "customers", 50, "customers placing the orders of a scenario (round robin)")
	fs.IntVar(&c.products, "products", 10, "products the orders of the orders and sustain scenarios are for (round robin)")
	fs.DurationVar(&c.drain, "drain", 90*time.Second, "how long to wait for orders to leave pending after a load")
	fs.DurationVar(&c.grace, "grace", 5*time.Second, "an order still pending this long after the load ended counts as not kept up with")
	overheadRates := fs.String("overhead-rates", "1000", "arrival rates of the sidecar overhead scenario (req/s)")
	fs.DurationVar(&c.overheadDuration, "overhead-duration", 10*time.Second, "duration of each overhead path")
	orderRates := fs.String("order-rates", "25,50,100,200,300", "arrival rates of the orders scenario, and the candidates of the sustain scenario (orders/s)")
	fs.DurationVar(&c.orderDuration, "order-duration", 15*time.Second, "duration of each orders rate")
	fs.DurationVar(&c.sustainDuration, "sustain-duration", 60*time.Second, "duration of each sustain attempt")
	fs.IntVar(&c.sustainAttempts, "sustain-attempts", 3, "most sustain attempts")
	fs.IntVar(&c.flashOrders, "flash-orders", 1000, "orders of the flash sale")
	fs.IntVar(&c.flashStock, "flash-stock", 100, "stock of the flash sale's product")
	fs.Float64Var(&c.flashRate, "flash-rate", 200, "arrival rate of the flash sale (orders/s)")
	readRates := fs.String("read-rates", "100,300", "arrival rates of the reads scenario (req/s)")
	fs.DurationVar(&c.readDuration, "read-duration", 10*time.Second, "duration of each read and rate")
	fs.IntVar(&c.fewOrders, "few-orders", 10, "orders of the customer with few orders")
	fs.IntVar(&c.manyOrders, "many-orders", 10_000, "orders of the customer with many orders")
	fs.DurationVar(&c.seedTimeout, "seed-timeout", 4*time.Minute, "how long seeding the many orders may take")
	fs.Float64Var(&c.pprofRate, "pprof-rate", 100, "arrival rate of the profile scenario (orders/s)")
	fs.DurationVar(&c.pprofDuration, "pprof-duration", 20*time.Second, "how long the profile scenario's CPU profiles run")
	fs.BoolVar(&c.keepLogs, "logs", false, "copy the logs of every process of each run to the report folder (logs-<run>/<process>.log)")
	fs.StringVar(&c.traceSampling, "trace-sampling", "", `the sidecars' trace sampling rate for the run: with a rate above 0 every sidecar and app exports its spans to a receiver in the benchmark, which counts and drops them ("1": every order traced; "0": tracing off); empty keeps components/config's rate, exporting nowhere`)
	smoke := fs.Bool("smoke", false, "a few seconds at low rates: overhead and orders only (CI)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *smoke {
		*scenarios, *overheadRates, *orderRates = "overhead,orders", "50", "10"
		c.overheadDuration, c.orderDuration, c.customers, c.products, c.drain = 2*time.Second, 2*time.Second, 2, 1, 30*time.Second
	}
	var err error
	c.scenarios = strings.Split(*scenarios, ",")
	for _, s := range c.scenarios {
		if !slices.Contains(allScenarios, s) {
			return c, fmt.Errorf("-scenarios: unknown scenario %q (have %s)", s, strings.Join(allScenarios, ", "))
		}
	}
	if c.overheadRates, err = parseRates("overhead-rates", *overheadRates); err != nil {
		return c, err
	}
	if c.orderRates, err = parseRates("order-rates", *orderRates); err != nil {
		return c, err
	}
	if c.readRates, err = parseRates("read-rates", *readRates); err != nil {
		return c, err
	}
	if c.runs < 1 || c.customers < 1 || c.products < 1 || c.flashRate <= 0 || c.flashOrders < 1 {
		return c, errors.New("-runs, -customers, -products, -flash-orders and -flash-rate must be positive")
	}
	if c.out == "" {
		c.out = filepath.Join("bench-results", time.Now().UTC().Format("20060102-150405")+"-"+c.profile)
	}
	return c, nil
}

func parseRates(name, s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r <= 0 {
			return nil, fmt.Errorf("-%s: %q is not a positive rate", name, f)
		}
		out = append(out, r)
	}
	return out, nil
}

// benchProcess names the benchmark's own process in the usage tables; it
// is not counted in the system's CPU.
const benchProcess = "bench (load generator)"

func run(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	var baseline *results
	if cfg.baseline != "" {
		if baseline, err = readResults(cfg.baseline); err != nil {
			return err
		}
	}
	res := &results{Meta: describe(ctx, cfg), Config: cfg.describe()}
	for i := 0; i < cfg.runs; i++ {
		fmt.Fprintf(stdout, "run %d of %d, profile %s\n", i+1, cfg.runs, cfg.profile)
		r, err := runOnce(ctx, cfg, i, stdout)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		res.Runs = append(res.Runs, r)
	}
	res.Median = median(res.Runs)
	res.Meta.LoadEnd = loadAverage()
	if err := res.write(cfg.out, baseline); err != nil {
		return err
	}
	printTable(stdout, res)
	if baseline != nil {
		printComparison(stdout, baseline, res)
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(cfg.out, "report.md"))
	return nil
}

// runOnce starts a system, runs the scenarios on it and stops it.
func runOnce(ctx context.Context, cfg config, n int, log io.Writer) (runResult, error) {
	started := time.Now()
	opts := harness.Options{Profile: cfg.profile, GatewayRateLimit: cfg.rateLimit, Profiling: slices.Contains(cfg.scenarios, "profile"),
		TraceSampling: cfg.traceSampling}
	if rate, err := strconv.ParseFloat(cfg.traceSampling, 64); err == nil && rate > 0 {
		endpoint, received, stop, err := startSpanSink()
		if err != nil {
			return runResult{}, err
		}
		defer func() { fmt.Fprintf(log, "  spans received: %d\n", received()); stop() }()
		opts.OTLPEndpoint = endpoint
	}
	sys, err := harness.Start(ctx, opts)
	if err != nil {
		return runResult{}, err
	}
	defer sys.Stop()
	if cfg.keepLogs {
		defer func() {
			if err := copyLogs(sys.LogFiles(), filepath.Join(cfg.out, fmt.Sprintf("logs-%d", n))); err != nil {
				fmt.Fprintf(log, "  logs not written: %v\n", err)
			}
		}()
	}
	fmt.Fprintf(log, "  system up in %s\n", time.Since(started).Round(100*time.Millisecond))
	pids := sys.Pids()
	pids[benchProcess] = os.Getpid()
	for name, pid := range profileServers(cfg.profile) {
		pids[name] = pid
	}
	m := newMeter(pids)
	defer m.close()
	sh := &shop{sys: sys, client: newClient(cfg.maxInFlight), runID: strconv.FormatInt(time.Now().UnixNano()%1e9, 36) + strconv.Itoa(n)}
	b := &bench{cfg: cfg, shop: sh, meter: m, log: log, figs: figures{}, usage: map[string][]Usage{}, timelines: map[string]timeline{}}
	admin, err := sh.adminToken(ctx)
	if err != nil {
		return runResult{}, err
	}
	b.idle(ctx, 3*time.Second)
	whole := m.mark()
	steps := map[string]func(context.Context) error{
		"overhead": b.overhead,
		"orders":   func(ctx context.Context) error { return b.orders(ctx, admin) },
		"sustain":  func(ctx context.Context) error { return b.sustain(ctx, admin) },
		"flash":    func(ctx context.Context) error { return b.flash(ctx, admin) },
		"reads":    func(ctx context.Context) error { return b.reads(ctx, admin) },
		"profile":  func(ctx context.Context) error { return b.profiles(ctx, admin) },
	}
	for _, s := range allScenarios {
		if !slices.Contains(cfg.scenarios, s) {
			continue
		}
		fmt.Fprintf(log, "  scenario %s\n", s)
		if err := steps[s](ctx); err != nil {
			return runResult{}, fmt.Errorf("%s: %w", s, err)
		}
	}
	r := runResult{Figures: b.figs, ScenarioUsage: b.usage, Timelines: b.timelines, Notes: b.notes, Usage: m.since(whole), Lifetime: m.lifetime()}
	for _, u := range r.Lifetime {
		b.figs["cpu/"+u.Process+"/seconds"] = u.CPUSeconds
		b.figs["rss/"+u.Process+"/peak_mb"] = u.PeakRSSMB
	}
	b.figs["cpu/system/seconds"] = totalCPU(r.Usage, benchProcess)
	return r, nil
}

// profileServers are the servers a profile uses that the harness does not
// start (their CPU includes every other client of theirs on the machine).
func profileServers(profile string) map[string]int {
	switch profile {
	case "redis":
		return findProcesses("redis-server")
	case "postgres-rabbitmq":
		return findProcesses("postgres", "beam.smp")
	case "kafka":
		return findProcesses("postgres")
	}
	return nil
}

// copyLogs copies the log files (process name -> path) into dir.
func copyLogs(files map[string]string, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var errs []error
	for name, path := range files {
		b, err := os.ReadFile(path)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name+".log"), b, 0o644)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
