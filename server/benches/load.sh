#!/usr/bin/env bash
# Load benchmark (not a test): seeds N listings (default 10000) into a fresh
# database, starts the release server on 127.0.0.1, and in one run measures
# with wrk (maximum rate) /healthz, the home page, the catalogue's first page,
# one search query repeated, 768 different searches in rotation, and the
# catalogue for a signed-in member of a client organisation; then, with the
# fixed-rate generator (examples/loadgen.rs), p50/p99 of the catalogue
# (anonymous and signed in) and of the rotating searches at half their
# maximum rate (three runs each, with
# the 100 ms windows in which every request was slow). Prints the ratios the
# catalogue's targets are stated in, and the server's peak memory. Stops by
# itself.
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
cargo build --release --locked -p server --bin fairground --example loadgen 2>&1 | tail -1
bin=target/release/fairground
loadgen=target/release/examples/loadgen

work=$(mktemp -d)
. server/scripts/lib.sh
bench_database "$backend" "$work" "fairground_bench_$$"
export FAIRGROUND_ADDR=127.0.0.1:0 FAIRGROUND_LOG=warn FAIRGROUND_SITE_ROOT=target/site
cleanup() { stop_server; drop_bench_database; rm -rf "$work"; }
trap cleanup EXIT

start=$(date +%s.%N)
"$bin" seed --demo >/dev/null
"$bin" seed --listings "$LISTINGS"
echo "seeded in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"

start_server "$bin" "$work"
curl -sf "$url/catalogue" | grep -o '[0-9]* listings match; page 1 of [0-9]*'

# 16 words x 16 words x 3 sort orders = 768 different searches.
words=(triage claims radiology contracts fraud maintenance tariffs compliance forecasting summaries coding underwriting procurement logistics tutoring outage)
sorts=(relevance price newest)
cat >"$work/rotate.lua" <<LUA
words = {$(printf '"%s",' "${words[@]}")}
sorts = {"relevance","price","newest"}
i = math.random(0, 767)
request = function()
  i = (i + 1) % 768
  local q = words[(i % 16) + 1] .. "+" .. words[(math.floor(i / 16) % 16) + 1]
  return wrk.format("GET", "/catalogue?q=" .. q .. "&sort=" .. sorts[math.floor(i / 256) + 1])
end
LUA
# A member of a client organisation, signed in: the catalogue as she sees it.
cookie=$(curl -sf -D - -o /dev/null -X POST -H "Origin: $url" -H 'Accept: application/json' \
  --data-urlencode email=load@bench.test --data-urlencode display_name=Load \
  --data-urlencode 'password=tangerine orbit cathedral 93' "$url/api/fn/sign_up" \
  | awk 'tolower($1)=="set-cookie:"{split($2,a,";"); print a[1]}' | tail -1)
# Joining an organisation moves the session to a new id.
cookie=$(curl -sf -D - -o /dev/null -X POST -H "Origin: $url" -H 'Accept: application/json' -H "Cookie: $cookie" \
  --data-urlencode 'name=Load Test Clinic' --data-urlencode kind=client "$url/api/fn/create_org" \
  | awk 'tolower($1)=="set-cookie:"{split($2,a,";"); print a[1]}' | tail -1)
curl -sf -H "Cookie: $cookie" "$url/catalogue" | grep -q 'href="/subscriptions"' \
  || { echo "the signed-in catalogue does not show a client member's menu" >&2; exit 1; }
rotating=()
for s in "${sorts[@]}"; do for a in "${words[@]}"; do for b in "${words[@]}"; do
  rotating+=("$url/catalogue?q=$a+$b&sort=$s")
done; done; done

# wrk prints latencies as 1.23ms / 456.00us / 1.20s: convert to ms.
to_ms() { awk -v v="$1" 'BEGIN{ if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v+0} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000} }'; }
run() { # path name [lua script] [label] [header]
  local path=$1 out script=() header=()
  [ -n "${3:-}" ] && script=(-s "$3")
  [ -n "${5:-}" ] && header=(-H "$5")
  out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H 'Accept-Encoding: br' "${script[@]}" "${header[@]}" "$url$path")
  local rps p50 p99 errs
  rps=$(awk '/^Requests\/sec/{print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1=="50%"{print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1=="99%"{print $2}' <<<"$out")")
  errs=$(awk '/Non-2xx|Socket errors/{print}' <<<"$out")
  printf '%-32s %10s %10s %10s  %s\n' "${4:-$path}" "$rps" "$p50" "$p99" "$errs"
  eval "rps_${2}=$rps p50_${2}=$p50 p99_${2}=$p99"
}
echo
echo "backend=$backend listings=$LISTINGS connections=$CONNECTIONS duration=$DURATION (load and server share $(nproc) cores)"
printf '%-32s %10s %10s %10s\n' "maximum rate (wrk)" "req/s" "p50 ms" "p99 ms"
run /healthz health
run / home
run /catalogue catalogue
run "/catalogue?q=claims+triage" search
run /catalogue rotating "$work/rotate.lua" "768 searches in rotation"
run /catalogue signed "" "catalogue, signed in" "Cookie: $cookie"
awk -v h="$rps_health" -v c="$rps_catalogue" -v s="$rps_search" -v r="$rps_rotating" -v o="$rps_home" -v si="$rps_signed" 'BEGIN{
  printf "of /healthz req/s: home %.1f%%, catalogue %.1f%% (target >= 10%%), search %.1f%%, rotating searches %.1f%% (target >= 5%%)\n", 100*o/h, 100*c/h, 100*s/h, 100*r/h
  printf "signed-in catalogue: %.1f%% of the anonymous one (target >= 50%%)\n", 100*si/c }'
secs=${DURATION%s}
half_c=$(awk -v r="$rps_catalogue" 'BEGIN{printf "%d", r/2}')
half_r=$(awk -v r="$rps_rotating" 'BEGIN{printf "%d", r/2}')
half_s=$(awk -v r="$rps_signed" 'BEGIN{printf "%d", r/2}')
echo
echo "half of the maximum rate (loadgen, latency from the scheduled send time; target p99 < 25 ms),"
echo "three runs each; stalled = the 100 ms windows (by send time) whose slowest request took over 25 ms:"
half() {
  local label=$1 out
  shift
  out=$("$loadgen" --windows 100 "$@")
  printf '%-26s %s stalled=%s\n' "$label" "$(grep '^rate=' <<<"$out")" \
    "$(grep -cE 'max (2[5-9]|[3-9][0-9]|[0-9]{3,})\.' <<<"$out" || true)"
}
for _ in 1 2 3; do half "catalogue at $half_c/s" --rate "$half_c" --seconds "$secs" "$url/catalogue"; done
for _ in 1 2 3; do half "signed in at $half_s/s" --rate "$half_s" --seconds "$secs" --header "Cookie: $cookie" "$url/catalogue"; done
for _ in 1 2 3; do half "searches at $half_r/s" --rate "$half_r" --seconds "$secs" "${rotating[@]}"; done
echo "server peak RSS: $(awk '/VmHWM/{print $2, $3}' /proc/$pid/status)"
