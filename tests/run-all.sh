#!/usr/bin/env bash
# The whole test suite: formatting, lints for both feature sets, unit tests,
# integration tests on SQLite and PostgreSQL, and browser tests in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }

step "setup"
server/scripts/setup.sh

step "PostgreSQL must be reachable (the Postgres tests never skip)"
PG_URL="${FAIRGROUND_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if ! pg_isready -q -d "$PG_URL"; then
  # The machine's own server, when installed but stopped.
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    for v in /etc/postgresql/*; do pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main start || true; done
    for _ in $(seq 1 20); do pg_isready -q -d "$PG_URL" && break; sleep 0.5; done
  fi
fi
pg_isready -d "$PG_URL" || { echo "PostgreSQL is not reachable at $PG_URL" >&2; exit 1; }

step "Redis must be reachable (the shared-limit tests never skip)"
(exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null || { echo "Redis is not reachable at 127.0.0.1:6379" >&2; exit 1; }

step "cargo fmt --check"
cargo fmt --all --check

step "clippy (ssr: app + server + tests)"
cargo clippy --locked -p server --all-targets -- -D warnings
step "clippy (hydrate: app + frontend, wasm32)"
cargo clippy --locked -p frontend -p app --features app/hydrate --target wasm32-unknown-unknown -- -D warnings

step "unit tests (app, server) and integration tests (SQLite and PostgreSQL)"
# One invocation, so app and server share one feature set and one build.
cargo test --locked -p app -p server --features app/ssr -- --test-threads 4

step "end-to-end tests (Chromium, JavaScript on and off)"
end2end/run.sh

step "API fuzzing from the OpenAPI document (schemathesis): no 5xx"
tests/fuzz-api.sh
