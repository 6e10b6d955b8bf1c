# make bench                        every scenario on the local profile (about 10 minutes on 2 cores)
# make bench PROFILE=redis          on another profile of components/
# make bench BASELINE=<results.json> and print the ratio of every figure to a saved run
# make bench RUNS=3                 three runs on fresh systems; the figures are medians
# make bench BENCH_FLAGS='-order-rates 50,100 -scenarios orders'   any flag of go run ./e2e/cmd/bench -h
# make bench-smoke                  a few seconds at low rates (what CI runs)
#
# The report (report.md, results.json, SVG plots) goes to bench-results/<time>-<profile>/.
# docs/benchmarks.md describes the scenarios and the figures.

PROFILE ?= local
RUNS ?= 1
BASELINE ?=
BENCH_FLAGS ?=

.PHONY: bench bench-smoke

bench:
	go run ./e2e/cmd/bench -profile $(PROFILE) -runs $(RUNS) $(if $(BASELINE),-baseline $(BASELINE)) $(BENCH_FLAGS)

bench-smoke:
	go run ./e2e/cmd/bench -smoke -profile $(PROFILE) -out $${TMPDIR:-/tmp}/shop-bench-smoke $(BENCH_FLAGS)
