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
pg_db=""
if [ $backend = postgres ]; then
  pg_db="fairground_meter_$$"
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $pg_db"
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$pg_db"
else
  export DATABASE_URL="sqlite://$work/bench.db"
fi
export FAIRGROUND_ADDR=127.0.0.1:0 FAIRGROUND_LOG=warn FAIRGROUND_SITE_ROOT=target/site
pid=""
cleanup() {
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  [ -n "$pg_db" ] && psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)"
  rm -rf "$work"
}
trap cleanup EXIT
"$bin" seed --demo >/dev/null
key=$("$bin" admin api-key --org meridian-health --name bench)
"$bin" serve >"$work/stdout" 2>"$work/stderr" &
pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^fairground listening on //p' "$work/stdout")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "server did not start" >&2; cat "$work/stderr" >&2; exit 1; }
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
