#!/usr/bin/env bash
# Gateway benchmark (not a test): the release server on 127.0.0.1 against a
# fresh SQLite file (or PostgreSQL with --postgres) with the demo data; the
# generator (examples/gatewaybench.rs) hosts the stand-in model server,
# points one of the demo client's deployments at it, and in one run measures
# direct calls and calls through the gateway: closed-loop maximum, open-loop
# latency at RATE a second (one phase after the other, then interleaved a
# second at a time), streamed time to first byte, and the records written.
# Stops by itself.
#
#   server/benches/gateway.sh [--postgres]
#   SECONDS_EACH=10 WORKERS=16 RATE=1000 server/benches/gateway.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH="${SECONDS_EACH:-10}"
WORKERS="${WORKERS:-16}"
RATE="${RATE:-1000}"
backend=sqlite
[ "${1:-}" = "--postgres" ] && backend=postgres
cargo build --release --locked -p server --bin fairground --example gatewaybench 2>&1 | tail -1
bin=target/release/fairground
bench=target/release/examples/gatewaybench
work=$(mktemp -d)
. server/scripts/lib.sh
bench_database "$backend" "$work" "fairground_gateway_$$"
export FAIRGROUND_ADDR=127.0.0.1:0 FAIRGROUND_LOG=warn FAIRGROUND_SITE_ROOT=target/site
# One key sends everything: lift its limit so the gateway is measured, not
# the limiter. The stand-in is on 127.0.0.1.
export FAIRGROUND_GATEWAY_REQUESTS_PER_KEY=1000000
export FAIRGROUND_GATEWAY_ALLOW_PRIVATE_UPSTREAMS=true
cleanup() { stop_server; drop_bench_database; rm -rf "$work"; }
trap cleanup EXIT
"$bin" seed --demo >/dev/null
key=$("$bin" admin api-key --org st-brigid-hospital --name bench)
start_server "$bin" "$work"
echo "backend: $backend"
"$bench" --gateway "$url" --key "$key" --db "$DATABASE_URL" \
  --workers "$WORKERS" --seconds "$SECONDS_EACH" --rate "$RATE"
rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "server peak RSS: $((rss / 1024)) MB"
if [ -f "$work/bench.db-wal" ]; then
  echo "SQLite WAL at the end: $(($(stat -c %s "$work/bench.db-wal") / 1048576)) MB"
fi
