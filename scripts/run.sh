#!/usr/bin/env bash
# run.sh sets up what the system needs (scripts/setup.sh) and runs it with
# the Dapr CLI: `dapr run -f .` on the local profile. Ctrl-C stops it all.
#
#   ./scripts/run.sh                     local profile (in memory, nothing to install)
#   PROFILE=redis ./scripts/run.sh       another folder of components/
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
echo "==> starting the system on profile $profile: dapr run -f $runfile (storefront on http://localhost:8080, gateway on http://localhost:3500)"
exec "$HOME/.dapr/bin/dapr" run -f "$runfile"
