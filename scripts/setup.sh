#!/usr/bin/env bash
# setup.sh installs the pinned Dapr toolchain from the Go module proxy:
#   daprd    v1.18.2 (runtime, built with -tags stablecomponents from tools/daprd)
#   dapr CLI v1.12.0
# into ~/.dapr/bin, where `dapr run` looks for daprd, builds the
# development broker of the local profile and the run file's launcher, and
# creates the development secrets (.dev/secrets.json, git-ignored) on first
# run: a new token signing key and admin password, kept across runs.
# It skips a binary whose installed version is already the pinned one.
set -euo pipefail

DAPRD_VERSION=1.18.2
CLI_VERSION=1.12.0
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$HOME/.dapr/bin

step_start=0
step() { step_start=$(date +%s); printf '==> %s\n' "$*"; }
done_step() { printf '    done in %ss\n' "$(( $(date +%s) - step_start ))"; }
fail() { printf 'setup: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || fail "Go is not on PATH. Install Go 1.26.5 or newer from https://go.dev/dl and run this again."
# daprd 1.18 needs Go 1.26.5 or newer.
gov=$(go env GOVERSION | sed 's/^go//')
if ! printf '1.26.5\n%s\n' "$gov" | sort -C -V; then
  fail "Go $gov is too old: the Dapr runtime 1.18 needs Go 1.26.5 or newer."
fi
mkdir -p "$bin" || fail "cannot create $bin"

# build MODULE_DIR PACKAGE LDFLAGS TAGS OUT: build a pinned main package from
# its wrapper module, verified against the committed go.sum.
build() {
  local dir=$1 pkg=$2 ldflags=$3 tags=$4 out=$5 tmp
  tmp=$(mktemp "$out.XXXXXX")
  # The checksum database does not answer for every github.com/dapr module
  # version; the committed go.sum is what verifies those modules.
  if ! (cd "$root/$dir" && GOWORK=off GOFLAGS=-mod=readonly GONOSUMDB=github.com/dapr \
        CGO_ENABLED=0 go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$tmp" "$pkg"); then
    rm -f "$tmp"
    fail "building $pkg failed (see above). It needs the Go module proxy (GOPROXY=$(go env GOPROXY)) and about 2 GiB of free memory; run scripts/setup.sh again once that is fixed."
  fi
  chmod +x "$tmp" && mv -f "$tmp" "$out"
}

# The project's build of daprd (tools/daprd: the release plus the gateway's
# routerchecker and invokeproblems middlewares, pubsub.rabbitmq one connection per subscription) says so in its build info; bump the suffix when
# tools/daprd changes, so that set-up rebuilds it.
DAPRD_BUILD="v$DAPRD_VERSION+shop.5"
if [ -x "$bin/daprd" ] && [ "$("$bin/daprd" --version 2>/dev/null)" = "$DAPRD_VERSION" ] &&
   "$bin/daprd" --build-info 2>/dev/null | grep -qxF "Git Version: $DAPRD_BUILD"; then
  printf '==> daprd %s already installed in %s\n' "$DAPRD_BUILD" "$bin"
else
  step "building daprd $DAPRD_BUILD (about 7 minutes on 2 cores the first time)"
  build tools/daprd . \
    "-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$DAPRD_VERSION -X github.com/dapr/dapr/pkg/buildinfo.gitversion=$DAPRD_BUILD" stablecomponents "$bin/daprd"
  [ "$("$bin/daprd" --version)" = "$DAPRD_VERSION" ] || fail "built daprd does not report version $DAPRD_VERSION"
  done_step
fi

if [ -x "$bin/dapr" ] && "$bin/dapr" version 2>/dev/null | grep -qE "^CLI version: ${CLI_VERSION}[[:space:]]*$"; then
  printf '==> dapr CLI %s already installed in %s\n' "$CLI_VERSION" "$bin"
else
  step "building dapr CLI $CLI_VERSION (about 3 minutes the first time)"
  build tools/dapr github.com/dapr/cli \
    "-s -w -X main.version=$CLI_VERSION -X main.apiVersion=1.0" "" "$bin/dapr"
  done_step
fi

# The daprd of the run file's sidecars: it runs the installed daprd with the
# flags Dapr CLI 1.12 cannot give daprd 1.18 (see tools/rundaprd).
step "building the run file's sidecar launcher (.bin/rundaprd/.dapr/bin/daprd)"
(cd "$root" && go build -o .bin/rundaprd/.dapr/bin/daprd ./tools/rundaprd) || fail "building tools/rundaprd failed (see above)"
done_step

# The development Kafka broker of the local profile. dapr.yaml starts it as
# the "daprd" of its first entry, so that the CLI waits for it (see there).
step "building the development broker (.bin/devbroker/.dapr/bin/daprd)"
(cd "$root" && go build -o .bin/devbroker/.dapr/bin/daprd ./tools/devbroker) || fail "building tools/devbroker failed (see above)"
done_step

# The browser test (e2e/browser) drives the storefront in Debian's headless
# Chromium through chromedriver. Installed with apt when missing (as root,
# or through sudo); skipped when both are there.
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  printf '==> chromium and chromedriver already installed\n'
else
  step "installing chromium and chromium-driver (apt) for the storefront's browser test"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  command -v apt-get >/dev/null || fail "chromium and chromedriver are missing and there is no apt-get: install Chromium and its chromedriver, or skip the browser test (see README)"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null ||
    fail "installing chromium and chromium-driver failed (see above)"
  done_step
fi

# The secrets of the developer's run: generated on first run and kept; the
# durable profiles' connection strings follow the environment
# (REDIS_PASSWORD, POSTGRES_CONNECTION_STRING, RABBITMQ_CONNECTION_STRING,
# KAFKA_BROKERS; see tools/devsecrets).
step "development secrets (.dev/secrets.json)"
(cd "$root" && go run ./tools/devsecrets -file .dev/secrets.json) || fail "creating .dev/secrets.json failed (see above)"
printf '    the admin account: admin-email and admin-password in %s\n' "$root/.dev/secrets.json"
done_step
