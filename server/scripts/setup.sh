#!/usr/bin/env bash
# Installs what building and testing Fairground needs on a fresh machine and
# skips whatever is already there: running it twice changes nothing.
# Nothing here downloads a prebuilt binary: tools come from Debian, crates.io
# and npm, and are built or installed by their ordinary clients.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: Chromium for the browser tests, brotli to report the
# compressed wasm size. (Not Debian's binaryen: its wasm-opt 108 breaks the
# wasm; see build-release.sh.)
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v brotli >/dev/null 2>&1 || missing+=(brotli)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v pg_isready >/dev/null 2>&1 || missing+=(postgresql-client)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
else
  say "Debian packages present"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
for c in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^$c"; then
    say "adding rustup component $c"
    rustup component add "$c"
  fi
done

# cargo-leptos 0.3.6 is the newest that builds with this toolchain;
# no_downloads keeps it from fetching tools at build time.
if [ "$(cargo leptos --version 2>/dev/null || true)" != "cargo-leptos 0.3.6" ]; then
  say "building cargo-leptos 0.3.6 (about 18 minutes on 2 cores, once)"
  CARGO_PROFILE_RELEASE_LTO=false cargo install cargo-leptos --locked --version 0.3.6 --features no_downloads
else
  say "cargo-leptos 0.3.6 present"
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "building wasm-bindgen-cli $want (about 4 minutes, once)"
  # Not --locked: its own lock file names a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "$want"
else
  say "wasm-bindgen-cli $want present"
fi

# wasm-opt for release builds: binaryen 132 from npm (a JavaScript and
# WebAssembly build of it, so nothing is compiled or downloaded besides the
# package), pinned by frontend/package-lock.json.
if [ ! -x frontend/node_modules/.bin/wasm-opt ] \
   || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
  say "installing frontend npm packages (binaryen's wasm-opt)"
  (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
else
  say "frontend npm packages present"
fi

# Browser-test driver: playwright-core only (it never downloads a browser;
# the tests use Debian's Chromium).
if [ ! -f end2end/node_modules/playwright-core/package.json ] \
   || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  say "installing end2end npm packages"
  (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
else
  say "end2end npm packages present"
fi
# schemathesis (PyPI) fuzzes the metering API from its OpenAPI document.
if [ ! -x target/tools-venv/bin/schemathesis ] \
   || ! target/tools-venv/bin/schemathesis --version 2>/dev/null | grep -q 4.32.5; then
  say "installing schemathesis 4.32.5 into target/tools-venv"
  python3 -m venv target/tools-venv
  target/tools-venv/bin/pip install --quiet --disable-pip-version-check schemathesis==4.32.5
else
  say "schemathesis present"
fi
# The official openai package (PyPI, pinned) calls the gateway in a test.
if ! target/tools-venv/bin/python -c 'import openai, sys; sys.exit(openai.__version__ != "2.8.1")' 2>/dev/null; then
  say "installing openai 2.8.1 into target/tools-venv"
  target/tools-venv/bin/pip install --quiet --disable-pip-version-check openai==2.8.1
else
  say "openai present"
fi
# aiosmtpd (PyPI, pinned) is the SMTP server the mail tests deliver to.
if ! target/tools-venv/bin/python -c 'import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != "1.4.6")' 2>/dev/null; then
  say "installing aiosmtpd 1.4.6 into target/tools-venv"
  target/tools-venv/bin/pip install --quiet --disable-pip-version-check aiosmtpd==1.4.6
else
  say "aiosmtpd present"
fi
say "done"
