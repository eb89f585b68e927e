#!/usr/bin/env bash
# Fuzzes the metering API and the model gateway from their own OpenAPI
# documents with schemathesis: the server on a free port against a fresh
# SQLite file with the demo data (its deployments answered by the stand-in
# model server), a partner's metering key and a client's gateway key in the
# Authorization header; any 5xx answer (or a server that stops answering)
# fails.
set -euo pipefail
cd "$(dirname "$0")/.."
st=target/tools-venv/bin/schemathesis
[ -x "$st" ] || { echo "schemathesis is missing: run server/scripts/setup.sh" >&2; exit 1; }
bin=target/debug/fairground
work=$(mktemp -d)
. server/scripts/lib.sh
cleanup() { stop_server; rm -rf "$work"; }
trap cleanup EXIT
export DATABASE_URL="sqlite://$work/fuzz.db"
export FAIRGROUND_ADDR=127.0.0.1:0
export FAIRGROUND_SITE_ROOT=target/site
# The per-key limit has its own test; here it would answer most cases 429.
export FAIRGROUND_API_REQUESTS_PER_KEY=1000000
export FAIRGROUND_GATEWAY_REQUESTS_PER_KEY=1000000
export FAIRGROUND_DEMO_UPSTREAM=true
"$bin" seed --demo >/dev/null
key=$("$bin" admin api-key --org meridian-health --name fuzz)
client_key=$("$bin" admin api-key --org st-brigid-hospital --name fuzz)
start_server "$bin" "$work"
"$st" run "$url/api/v1/openapi.json" \
  --url "$url" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error \
  --max-examples "${FUZZ_EXAMPLES:-300}" \
  --seed 20261128 \
  --no-color
"$st" run "$url/gateway/v1/openapi.json" \
  --url "$url" \
  --header "Authorization: Bearer $client_key" \
  --checks not_a_server_error \
  --max-examples "${FUZZ_EXAMPLES:-300}" \
  --seed 20261130 \
  --no-color
# And the server is still up.
curl -fsS "$url/healthz" >/dev/null
echo "fuzzing found no server error"
