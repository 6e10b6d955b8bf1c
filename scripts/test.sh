#!/usr/bin/env bash
# test.sh runs every check CI runs: gofmt, go vet, the unit tests of every
# module, a few seconds of each fuzz target, then the end-to-end suite
# through real Dapr sidecars on each
# profile in $E2E_PROFILES (default: all four), and the storefront's
# browser test (e2e/browser, headless Chromium) once. The durable profiles need
# their servers on 127.0.0.1 (Redis 6379, PostgreSQL 5432, RabbitMQ 5672);
# one that is not reachable fails the run, it is never skipped.
#
#   ./scripts/test.sh                           everything
#   E2E_PROFILES=redis ./scripts/test.sh        end-to-end on one profile
#   go test ./inventorysvc/...                  one module's unit tests
#   E2E_PROFILE=local go test ./e2e/ -run TestGetProduct   one scenario
#   E2E_PROFILE=redis go test ./e2e/faults/     replicas and faults (skipped on local and kafka)
#   go test -v ./e2e/browser                    the storefront in the browser
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
"$root/scripts/setup.sh"

step_start=0
step() { step_start=$(date +%s); printf '==> %s\n' "$*"; }
done_step() { printf '    done in %ss\n' "$(( $(date +%s) - step_start ))"; }

modules=$(go list -m -f '{{.Dir}}')
step "gofmt"
unformatted=$(gofmt -l $(printf '%s ' $modules))
if [ -n "$unformatted" ]; then
  printf 'gofmt would change these files (run gofmt -w):\n%s\n' "$unformatted" >&2
  exit 1
fi
done_step

step "go vet"
go vet $(for m in $modules; do printf '%s/... ' "$m"; done)
done_step

step "unit tests"
go test -race -count=1 $(for m in $modules; do [ "$(basename "$m")" = e2e ] || printf '%s/... ' "$m"; done)
# The project's additions to daprd (the gateway's problems middleware, the
# RabbitMQ wrapper) live in tools/daprd, a module of its own outside the
# workspace (it pins the Dapr runtime).
[ -z "$(gofmt -l tools/daprd)" ] || { gofmt -l tools/daprd >&2; echo "gofmt would change these files" >&2; exit 1; }
(cd tools/daprd && GOWORK=off go vet ./invokeproblems ./pubsubpersub && GOWORK=off go test -race -count=1 ./invokeproblems ./pubsubpersub)
done_step

# Every request decoder and the token verifier, fuzzed for a few seconds
# each (FUZZTIME, default 10,000 inputs each: a count, not a duration, because
# Go 1.26's fuzz coordinator can fail a target with "context deadline
# exceeded" at the end of a timed run having found nothing, go.dev/issue/75804,
# fixed in Go 1.27; about 40s in all). A finding is saved under the package's
# testdata/fuzz and fails the run; `go test` replays it from then on.
step "fuzzing"
for target in \
  ./platform/httpx:FuzzDecodeJSON ./platform/httpx:FuzzParsePage ./platform/httpx:FuzzCheckText \
  ./platform/events:FuzzHandle ./platform/auth:FuzzVerify \
  ./usersvc/internal/userhttp:FuzzRequestBodies ./inventorysvc/internal/inventoryhttp:FuzzRequestBodies \
  ./ordersvc/internal/orderhttp:FuzzPlaceOrder; do
  go test -run '^$' -fuzz "^${target#*:}\$" -fuzztime "${FUZZTIME:-10000x}" "${target%%:*}"
done
done_step

# The benchmark's smoke run (docs/benchmarks.md): a few seconds at low
# rates on the local profile, so that the tool keeps working. It checks no
# number.
step "benchmark smoke run"
go run ./e2e/cmd/bench -smoke -out "$(mktemp -d)"
done_step

# needs PROFILE: the host:port pairs the profile's components connect to.
needs() {
  case $1 in
    redis) echo 127.0.0.1:6379 ;;
    postgres-rabbitmq) echo 127.0.0.1:5432 127.0.0.1:5672 ;;
    kafka) echo 127.0.0.1:5432 ;; # Kafka itself is the in-process broker
  esac
}

for profile in ${E2E_PROFILES:-local redis postgres-rabbitmq kafka}; do
  for addr in $(needs "$profile"); do
    if ! (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null; then
      echo "test: profile $profile needs a server on $addr, and none answers. Start it, or leave the profile out: E2E_PROFILES=\"local ...\"" >&2
      exit 1
    fi
  done
  step "end-to-end tests, profile $profile"
  E2E_PROFILE=$profile go test -count=1 -timeout 20m $(go list ./e2e/... | grep -v '/e2e/browser$')
  done_step
  # Replicas and faults (README, "Scale and failure"), on the redis profile
  # only, to keep CI short: the saga's hardest tests again with three
  # ordersvc and two inventorysvc replicas (the package e2e/faults ran
  # above, with its own replicas: it runs on redis and postgres-rabbitmq).
  if [ "$profile" = redis ]; then
    step "end-to-end tests with replicas, profile $profile"
    E2E_PROFILE=$profile E2E_REPLICAS=ordersvc=3,inventorysvc=2 go test -count=1 -timeout 15m \
      -run 'TestNoOversell|TestIdempotencyKeyRace|TestCrashLosesNothing|TestCrashBetweenCommitAndPublish|TestSagaTimeout|TestConcurrentCreatesAreAllListed|TestListOrdersPages' ./e2e/
    done_step
  fi
done

# The storefront in a real headless Chromium, once, on the default profile
# (its pages do not depend on the profile). It prints the folder of its
# screenshots.
step "browser test of the storefront (e2e/browser)"
E2E_PROFILE=local go test -count=1 -timeout 15m -v ./e2e/browser
done_step
