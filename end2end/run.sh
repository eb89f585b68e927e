#!/usr/bin/env bash
# Builds the site (server + wasm), starts it on a free port against a fresh
# SQLite file with the demo data, and runs the browser tests against it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo leptos build
work=$(mktemp -d)
export DATABASE_URL="sqlite://$work/e2e.db"
export FAIRGROUND_ADDR=127.0.0.1:0
export FAIRGROUND_SITE_ROOT=target/site
target/debug/fairground seed --demo
# The platform's referee for the review flow: the browser tests sign up with
# this address and accept the link.
export FAIRGROUND_E2E_REFEREE_EMAIL=referee-e2e@example.org
invite=$(target/debug/fairground admin bootstrap --email "$FAIRGROUND_E2E_REFEREE_EMAIL" | grep -o 'invitations/[A-Za-z0-9_-]*' | tail -1)
[ -n "$invite" ] || { echo "could not bootstrap the referee" >&2; exit 1; }
. server/scripts/lib.sh
cleanup() { stop_server; rm -rf "$work"; }
trap cleanup EXIT
start_server target/debug/fairground "$work"
cd end2end
node join-referee.mjs "$url" "$FAIRGROUND_E2E_REFEREE_EMAIL" 'tangerine orbit cathedral 93' "${invite#invitations/}"
# One test file at a time: they share the referee. Arguments, if any, name
# the test files to run (default: all of them).
if [ $# -gt 0 ]; then files=("$@"); else files=(tests/); fi
FAIRGROUND_E2E_URL="$url" node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
