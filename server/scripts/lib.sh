# Shared by the scripts that run the server for tests and benchmarks
# (sourced, not run).

# start_server BIN WORKDIR: starts `BIN serve` (FAIRGROUND_ADDR should be
# 127.0.0.1:0) with its output in WORKDIR, waits for its address; sets
# `pid` and `url`. Fails, showing the server's stderr, if it does not start.
start_server() {
  local bin=$1 work=$2
  "$bin" serve >"$work/stdout" 2>"$work/stderr" &
  pid=$!
  url=""
  for _ in $(seq 1 100); do
    url=$(sed -n 's/^fairground listening on //p' "$work/stdout")
    [ -n "$url" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "the server did not start" >&2
  cat "$work/stderr" >&2
  return 1
}

# stop_server: stops the server `start_server` started, if any.
stop_server() {
  if [ -n "${pid:-}" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}

# bench_database BACKEND WORKDIR NAME: points DATABASE_URL at a fresh
# database (a SQLite file in WORKDIR, or a new PostgreSQL database NAME at
# 127.0.0.1:5432); sets `pg_db` to the database to drop afterwards (empty
# for SQLite).
bench_database() {
  pg_db=""
  if [ "$1" = postgres ]; then
    pg_db=$3
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $pg_db"
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$pg_db"
  else
    export DATABASE_URL="sqlite://$2/bench.db"
  fi
}

# drop_bench_database: drops what bench_database created.
drop_bench_database() {
  if [ -n "${pg_db:-}" ]; then
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)"
  fi
}
