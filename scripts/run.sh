#!/usr/bin/env bash
# run.sh sets up what the system needs (scripts/setup.sh) and runs it with
# the Dapr CLI: `dapr run -f .` on the local profile. Ctrl-C stops it all.
#
#   ./scripts/run.sh                     local profile (in memory, nothing to install)
#   PROFILE=redis ./scripts/run.sh       another folder of components/
#   PROFILE=redis REPLICAS=ordersvc=3,inventorysvc=2 ./scripts/run.sh
#                                        replicas of a service: the same app id,
#                                        each with its own sidecar and ports
#                                        (app, HTTP, gRPC and metrics ports +10
#                                        per replica); not on the local profile,
#                                        whose state lives in one sidecar
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
profile=${PROFILE:-local}
[ -d "$root/components/$profile" ] || { echo "run: unknown profile $profile (see components/)" >&2; exit 1; }
"$root/scripts/setup.sh"
cd "$root"
runfile=dapr.yaml
if [ "$profile" != local ]; then
  # The same run file, with the profile's components instead of local's.
  runfile=.dapr.$profile.yaml
  sed "s#components/local\$#components/$profile#" dapr.yaml > "$runfile"
fi
if [ -n "${REPLICAS:-}" ]; then
  if [ "$profile" = local ]; then
    echo "run: REPLICAS needs a durable profile (PROFILE=redis or postgres-rabbitmq): local state lives in one sidecar's memory" >&2
    exit 1
  fi
  # Each app entry of the run file once more per extra replica: the same
  # app id, its ports moved on by 10 per replica, its binary built under
  # a name of its own (replicas build at once).
  awk -v replicas="$REPLICAS" '
    BEGIN {
      n = split(replicas, parts, ",")
      for (i = 1; i <= n; i++) { split(parts[i], kv, "="); count[kv[1]] = kv[2] + 0 }
    }
    function flush(   k, line, j, port, lines) {
      if (app != "" && count[app] > 1) {
        for (k = 2; k <= count[app]; k++) {
          for (j = 1; j <= nblock; j++) {
            line = block[j]
            if (match(line, /(appPort|daprHTTPPort|daprGRPCPort|metricsPort): [0-9]+/)) {
              port = substr(line, RSTART, RLENGTH); sub(/.*: /, "", port)
              sub(/[0-9]+$/, port + 10 * (k - 1), line)
            }
            gsub("\\.bin/" app " ", ".bin/" app "-" k " ", line)
            gsub("\\.bin/" app "\"", ".bin/" app "-" k "\"", line)
            print line
          }
        }
      }
      app = ""; nblock = 0
    }
    /^  - appID: / { flush(); app = $3 }
    /^  [^ -]|^  #/ { flush() }
    { if (app != "") block[++nblock] = $0; print }
    END { flush() }
  ' "$runfile" > .dapr.replicas.yaml
  for part in ${REPLICAS//,/ }; do
    grep -q "appID: ${part%%=*}\$" .dapr.replicas.yaml || { echo "run: REPLICAS names no app of the run file: ${part%%=*}" >&2; exit 1; }
  done
  runfile=.dapr.replicas.yaml
fi
# The development trace receiver: every sidecar and app sends its spans to
# 127.0.0.1:4318, kept in .dev/traces.jsonl; `go run ./tools/trace <order-id>`
# prints an order's trace. TRACES=off runs without it (the spans are then
# dropped, nothing else changes).
if [ "${TRACES:-on}" != off ]; then
  go build -o .bin/trace ./tools/trace
  .bin/trace serve &
  trace_pid=$!
  trap 'kill "$trace_pid" 2>/dev/null' EXIT
fi
echo "==> starting the system on profile $profile: dapr run -f $runfile (storefront on http://localhost:8080, gateway on http://localhost:3500)"
"$HOME/.dapr/bin/dapr" run -f "$runfile"
