#!/usr/bin/env bash
# Load benchmark (not a test): seeds N listings (default 10000) into a fresh
# database, starts the release server on 127.0.0.1, and measures /healthz and
# the home page with wrk in one run: req/s, p50, p99, their ratio, and the
# server's peak memory. Stops by itself.
#
#   server/benches/load.sh                 # SQLite
#   server/benches/load.sh --postgres      # PostgreSQL at 127.0.0.1:5432
#   LISTINGS=10000 DURATION=10s CONNECTIONS=32 server/benches/load.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
LISTINGS="${LISTINGS:-10000}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
backend=sqlite
[ "${1:-}" = "--postgres" ] && backend=postgres

command -v wrk >/dev/null 2>&1 || {
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null;
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; fi
}
cargo build --release --locked -p server --bin fairground 2>&1 | tail -1
bin=target/release/fairground

work=$(mktemp -d)
pg_db=""
if [ $backend = postgres ]; then
  pg_db="fairground_bench_$$"
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

start=$(date +%s.%N)
"$bin" seed --demo >/dev/null
"$bin" seed --listings "$LISTINGS"
echo "seeded in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"

"$bin" serve >"$work/stdout" 2>"$work/stderr" &
pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^fairground listening on //p' "$work/stdout"); [ -n "$url" ] && break; sleep 0.1
done
[ -n "$url" ] || { cat "$work/stderr"; exit 1; }
curl -sf "$url/" | grep -o 'Showing [0-9]* of [0-9]* published listings'

# wrk prints latencies as 1.23ms / 456.00us / 1.20s: convert to ms.
to_ms() { awk -v v="$1" 'BEGIN{ if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v+0} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000} }'; }
run() {
  local path=$1 out
  out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H 'Accept-Encoding: br' "$url$path")
  local rps p50 p99 errs
  rps=$(awk '/^Requests\/sec/{print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1=="50%"{print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1=="99%"{print $2}' <<<"$out")")
  errs=$(awk '/Non-2xx|Socket errors/{print}' <<<"$out")
  printf '%-10s %12s %10s %10s  %s\n' "$path" "$rps" "$p50" "$p99" "$errs"
  eval "rps_${2}=$rps p50_${2}=$p50 p99_${2}=$p99"
}
echo
echo "backend=$backend listings=$LISTINGS connections=$CONNECTIONS duration=$DURATION (wrk and server share $(nproc) cores)"
printf '%-10s %12s %10s %10s\n' path "req/s" "p50 ms" "p99 ms"
run /healthz health
run / home
awk -v a="$rps_health" -v b="$rps_home" -v c="$p50_home" -v d="$p50_health" \
  'BEGIN{ printf "ratio healthz/home: throughput %.1fx, p50 latency %.1fx\n", a/b, c/d }'
echo "server peak RSS: $(awk '/VmHWM/{print $2, $3}' /proc/$pid/status)"
