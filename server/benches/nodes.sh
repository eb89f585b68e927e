#!/usr/bin/env bash
# Two-node benchmark (not a test): one PostgreSQL database at 127.0.0.1:5432
# with the demo data and N listings (default 10000), Redis at 127.0.0.1:6379
# for the rate limits, the release server. Measures the catalogue's first page
# and a gateway call (to the demo's stand-in model server) from one node, then
# from two nodes on the same database, side by side in one run:
#   - the maximum rate (wrk; two nodes: one wrk per node at once, half the
#     connections each, rates added, the worse p99 shown);
#   - p99 at a fixed rate (examples/loadgen.rs, open loop, connections spread
#     over the nodes), at half of one node's maximum.
# Stops by itself.
#
#   server/benches/nodes.sh
#   LISTINGS=10000 DURATION=10s CONNECTIONS=32 server/benches/nodes.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
LISTINGS="${LISTINGS:-10000}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"

command -v wrk >/dev/null 2>&1 || {
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null;
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; fi
}
(exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null || { echo "Redis is not reachable at 127.0.0.1:6379" >&2; exit 1; }
cargo build --release --locked -p server --bin fairground --example loadgen 2>&1 | tail -1
bin=target/release/fairground
loadgen=target/release/examples/loadgen

work=$(mktemp -d)
mkdir -p "$work/a" "$work/b"
. server/scripts/lib.sh
bench_database postgres "$work" "fairground_nodes_$$"
export FAIRGROUND_ADDR=127.0.0.1:0 FAIRGROUND_LOG=warn FAIRGROUND_SITE_ROOT=target/site
export FAIRGROUND_REDIS_URL=redis://127.0.0.1:6379
# One key sends every call: its limit is lifted, so the nodes are measured,
# not the limiter (the check still goes to Redis on every call).
export FAIRGROUND_GATEWAY_REQUESTS_PER_KEY=1000000 FAIRGROUND_DEMO_UPSTREAM=true
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  drop_bench_database
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" seed --demo >/dev/null
"$bin" seed --listings "$LISTINGS" >/dev/null
key=$("$bin" admin api-key --org st-brigid-hospital --name bench)
start_server "$bin" "$work/a"; pids+=("$pid"); url_a=$url
start_server "$bin" "$work/b"; pids+=("$pid"); url_b=$url
model=$(curl -sf -H "Authorization: Bearer $key" "$url_a/gateway/v1/models" | grep -o '"id":"[^"@]*"' | head -1 | cut -d'"' -f4)
[ -n "$model" ] || { echo "the demo client has no model to call" >&2; exit 1; }
printf '{"model":"%s","messages":[{"role":"user","content":"Is this urgent?"}]}' "$model" >"$work/call.json"
for u in "$url_a" "$url_b"; do
  curl -sf -o /dev/null -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    --data @"$work/call.json" "$u/gateway/v1/chat/completions" || { echo "a gateway call failed on $u" >&2; exit 1; }
done
cat >"$work/call.lua" <<LUA
wrk.method = "POST"
wrk.body = [[$(cat "$work/call.json")]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
LUA

to_ms() { awk -v v="$1" 'BEGIN{ if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v+0} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000} }'; }
# wrk_at CONNECTIONS URL [lua]: "req/s p99_ms non2xx"
wrk_at() {
  local c=$1 u=$2 script=() out
  [ -n "${3:-}" ] && script=(-s "$3")
  out=$(wrk -t1 -c"$c" -d"$DURATION" --latency -H 'Accept-Encoding: br' "${script[@]}" "$u")
  echo "$(awk '/^Requests\/sec/{print $2}' <<<"$out") $(to_ms "$(awk '$1=="99%"{print $2}' <<<"$out")") $(awk '/Non-2xx/{print $4}' <<<"$out")"
}
# maximum NAME PATH [lua]: one node, then two at once.
maximum() {
  local name=$1 path=$2 lua=${3:-} one two_a two_b
  one=$(wrk_at "$CONNECTIONS" "$url_a$path" "$lua")
  wrk_at $((CONNECTIONS / 2)) "$url_a$path" "$lua" >"$work/wa" &
  local w=$!
  two_b=$(wrk_at $((CONNECTIONS / 2)) "$url_b$path" "$lua")
  wait "$w"
  two_a=$(cat "$work/wa")
  awk -v n="$name" -v o="$one" -v a="$two_a" -v b="$two_b" 'BEGIN{
    split(o, O, " "); split(a, A, " "); split(b, B, " ");
    p = (A[2] > B[2]) ? A[2] : B[2];
    printf "%-22s one node %9.0f req/s p99 %7.2f ms | two nodes %9.0f req/s (%4.0f%%) p99 %7.2f ms  non-2xx %s/%s/%s\n",
      n, O[1], O[2], A[1] + B[1], 100 * (A[1] + B[1]) / O[1], p, O[3]+0, A[3]+0, B[3]+0 }'
  eval "max_${name}=$(awk '{printf "%d", $1}' <<<"$one")"
}
echo "backend=postgres listings=$LISTINGS connections=$CONNECTIONS duration=$DURATION; Redis limits; nodes, database, Redis and load share $(nproc) cores"
maximum catalogue /catalogue
maximum gateway /gateway/v1/chat/completions "$work/call.lua"

secs=${DURATION%s}
fixed() { # name rate args...
  local name=$1 rate=$2 one two
  shift 2
  one=$("$loadgen" --rate "$rate" --seconds "$secs" "$@" "${targets_a[@]}" | grep '^rate=')
  two=$("$loadgen" --rate "$rate" --seconds "$secs" "$@" "${targets_ab[@]}" | grep '^rate=')
  printf '%-22s one node  %s\n%-22s two nodes %s\n' "$name" "$one" "" "$two"
}
echo
echo "at half of one node's maximum (loadgen, open loop, p99 from the scheduled send time):"
targets_a=("$url_a/catalogue"); targets_ab=("$url_a/catalogue" "$url_b/catalogue")
fixed catalogue $((max_catalogue / 2))
targets_a=("$url_a/gateway/v1/chat/completions"); targets_ab=("$url_a/gateway/v1/chat/completions" "$url_b/gateway/v1/chat/completions")
fixed gateway $((max_gateway / 2)) --post "$work/call.json" --header "Authorization: Bearer $key"
