#!/usr/bin/env bash
# Builds Fairground, adds the demo data to the SQLite file (created on first
# start) and serves http://127.0.0.1:3000 until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."
server/scripts/setup.sh
server/scripts/build-release.sh
export DATABASE_URL="${DATABASE_URL:-sqlite://data/fairground.db}"
export FAIRGROUND_ADDR="${FAIRGROUND_ADDR:-127.0.0.1:3000}"
export FAIRGROUND_SITE_ROOT="${FAIRGROUND_SITE_ROOT:-target/site}"
target/release/fairground seed --demo
# The demo's deployments answer through the gateway from a stand-in model
# server started by the process (see README: Model gateway).
exec target/release/fairground serve --demo-upstream
