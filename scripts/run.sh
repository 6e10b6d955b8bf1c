#!/usr/bin/env bash
# run.sh sets up what the system needs (scripts/setup.sh) and runs it with
# the Dapr CLI: `dapr run -f .` on the local profile. Ctrl-C stops it all.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
echo "==> starting the system: dapr run -f . (gateway on http://localhost:3500)"
exec "$HOME/.dapr/bin/dapr" run -f .
