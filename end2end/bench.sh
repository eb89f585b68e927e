#!/usr/bin/env bash
# The browser benchmark (README: Performance, "In a slow browser"): builds
# the release site, serves it with the demo data from a fresh SQLite file
# and runs end2end/bench/browser.mjs against it. Stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${BENCH_NO_BUILD:-}" ] || server/scripts/build-release.sh
bin=target/release/fairground
work=$(mktemp -d)
export DATABASE_URL="sqlite://$work/bench.db"
export FAIRGROUND_ADDR=127.0.0.1:0
export FAIRGROUND_SITE_ROOT=target/site
"$bin" seed --demo >/dev/null
. server/scripts/lib.sh
cleanup() { stop_server; rm -rf "$work"; }
trap cleanup EXIT
start_server "$bin" "$work"
echo "release build: $(stat -c %s target/site/pkg/fairground.wasm) B of wasm"
FAIRGROUND_E2E_URL="$url" node end2end/bench/browser.mjs
