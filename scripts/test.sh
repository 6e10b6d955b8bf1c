#!/usr/bin/env bash
# test.sh runs every check CI runs: gofmt, go vet, the unit tests of every
# module, then the end-to-end suite through real Dapr sidecars on each
# profile in $E2E_PROFILES (default: local).
#
#   ./scripts/test.sh                           everything
#   E2E_PROFILES=redis ./scripts/test.sh        end-to-end on one profile
#   go test ./inventorysvc/...                  one module's unit tests
#   E2E_PROFILE=local go test ./e2e/ -run TestGetProduct   one scenario
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
done_step

for profile in ${E2E_PROFILES:-local}; do
  step "end-to-end tests, profile $profile"
  E2E_PROFILE=$profile go test -count=1 -timeout 20m ./e2e/...
  done_step
done
