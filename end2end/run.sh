#!/usr/bin/env bash
# Builds the release site (server + wasm, exactly what server/scripts/demo.sh
# serves), starts it on a free port against a fresh SQLite file with the demo
# data, and runs the browser tests against it.
#
# The release build is the one users run, and the only one whose wasm goes
# through wasm-opt: a fault there (the page never hydrates) is invisible to
# a debug build. FAIRGROUND_E2E_PROFILE=debug serves the debug build instead,
# for a quicker local loop; the test command never sets it.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${FAIRGROUND_E2E_PROFILE:-release}
case "$profile" in
  release) server/scripts/build-release.sh ;;
  debug) cargo leptos build ;;
  *) echo "FAIRGROUND_E2E_PROFILE must be release or debug" >&2; exit 2 ;;
esac
bin=target/$profile/fairground
echo "browser tests against the $profile build: $(stat -c %s target/site/pkg/fairground.wasm) B of wasm"
work=$(mktemp -d)
export DATABASE_URL="sqlite://$work/e2e.db"
export FAIRGROUND_ADDR=127.0.0.1:0
export FAIRGROUND_SITE_ROOT=target/site
# Every browser test comes from 127.0.0.1: sign-ups, sign-ins and codes of
# all the test people count against one address's limit (20 a minute by
# default, for real visitors each at their own address).
export FAIRGROUND_AUTH_ATTEMPTS_PER_IP=600
# The tests read the outbox (address-confirmation links) with this binary.
export FAIRGROUND_E2E_BIN="$PWD/$bin"
# The demo's deployments answer through the gateway, as in the demo.
export FAIRGROUND_DEMO_UPSTREAM=true
"$bin" seed --demo
# The platform's referee for the review flow: the browser tests sign up with
# this address and accept the link.
export FAIRGROUND_E2E_REFEREE_EMAIL=referee-e2e@example.org
invite=$("$bin" admin bootstrap --email "$FAIRGROUND_E2E_REFEREE_EMAIL" | grep -o 'invitations/[A-Za-z0-9_-]*' | tail -1)
[ -n "$invite" ] || { echo "could not bootstrap the referee" >&2; exit 1; }
. server/scripts/lib.sh
cleanup() { stop_server; rm -rf "$work"; }
trap cleanup EXIT
start_server "$bin" "$work"
cd end2end
# Codes of two-step sign-in are used once; the test files share this
# record of the steps used.
export FAIRGROUND_E2E_TOTP_STEPS="$work/totp-steps.json"
joined=$(node join-referee.mjs "$url" "$FAIRGROUND_E2E_REFEREE_EMAIL" 'tangerine orbit cathedral 93' "${invite#invitations/}")
echo "${joined%$'\n'*}"
export FAIRGROUND_E2E_REFEREE_TOTP="${joined##*$'\n'}"
# One test file at a time: they share the referee. Arguments, if any, name
# the test files to run (default: all of them).
if [ $# -gt 0 ]; then files=("$@"); else files=(tests/); fi
FAIRGROUND_E2E_URL="$url" node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
