#!/usr/bin/env bash
# Metering benchmark (not a test): the release server on 127.0.0.1 against a
# fresh SQLite file (or PostgreSQL with --postgres) with the demo data; in
# one run, /healthz, usage batches of 100 records and single-record
# requests, each by the same closed-loop generator (benches/meterbench.rs):
# records accepted per second, requests per second, p50/p99. Stops by itself.
#
#   server/benches/metering.sh [--postgres]
#   SECONDS_EACH=10 WORKERS=8 server/benches/metering.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH="${SECONDS_EACH:-10}"
WORKERS="${WORKERS:-8}"
backend=sqlite
[ "${1:-}" = "--postgres" ] && backend=postgres
cargo build --release --locked -p server --bin fairground --example meterbench 2>&1 | tail -1
bin=target/release/fairground
bench=target/release/examples/meterbench
work=$(mktemp -d)
. server/scripts/lib.sh
bench_database "$backend" "$work" "fairground_meter_$$"
export FAIRGROUND_ADDR=127.0.0.1:0 FAIRGROUND_LOG=warn FAIRGROUND_SITE_ROOT=target/site
# One key sends everything: lift its request limit, so ingest is measured,
# not the limiter.
export FAIRGROUND_API_REQUESTS_PER_KEY=1000000
cleanup() { stop_server; drop_bench_database; rm -rf "$work"; }
trap cleanup EXIT
"$bin" seed --demo >/dev/null
key=$("$bin" admin api-key --org meridian-health --name bench)
start_server "$bin" "$work"
# A subscription to one of Meridian Health's listings (from the demo data),
# read from the server's own statements page data would need a session; the
# API answers which ids are its own by accepting them.
sub=""
for id in $(seq 1 50); do
  out=$(curl -s -H "Authorization: Bearer $key" -H 'content-type: application/json' \
    -d "{\"records\":[{\"idempotency_key\":\"probe-$id\",\"subscription_id\":$id,\"dimension\":\"calls\",\"quantity\":1,\"occurred_at\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}]}" \
    "$url/api/v1/usage")
  if echo "$out" | grep -q '"accepted":1'; then sub=$id; break; fi
done
[ -n "$sub" ] || { echo "no subscription of the demo partner found" >&2; exit 1; }
echo "backend: $backend; $WORKERS workers, ${SECONDS_EACH}s each; subscription $sub"
"$bench" --url "$url" --healthz --workers "$WORKERS" --seconds "$SECONDS_EACH"
"$bench" --url "$url" --key "$key" --subscription "$sub" --batch 100 --workers "$WORKERS" --seconds "$SECONDS_EACH"
"$bench" --url "$url" --key "$key" --subscription "$sub" --batch 1 --workers "$WORKERS" --seconds "$SECONDS_EACH"
rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
echo "server peak RSS: $((rss / 1024)) MB"
