#!/usr/bin/env bash
# Builds the release site (`cargo leptos build --release`: the server binary
# and the optimised wasm in target/site/pkg), with the project's own wasm-opt
# first on PATH. Every release build goes through here: demo.sh, the browser
# tests, the benchmarks.
#
# Why not whatever wasm-opt the machine has: binaryen before version 110
# writes every exported table as table 0 (binaryen issue #4711, fixed in 110).
# wasm-bindgen exports its externref table beside the function table, so an
# old wasm-opt (Debian bookworm ships 108) points the glue's
# `__wbindgen_externrefs` at the function table and every page's wasm fails
# to start with "WebAssembly.Table.set(): Argument 1 is invalid for table".
set -euo pipefail
cd "$(dirname "$0")/../.."
tools="$PWD/frontend/node_modules/.bin"
[ -x "$tools/wasm-opt" ] || { echo "frontend/node_modules has no wasm-opt: run server/scripts/setup.sh" >&2; exit 1; }
export PATH="$tools:$PATH"
version=$(wasm-opt --version | sed -n 's/^wasm-opt version \([0-9]*\).*/\1/p')
if [ -z "$version" ] || [ "$version" -lt 110 ]; then
  echo "wasm-opt at $(command -v wasm-opt) is version ${version:-unknown}; 110 or newer is needed" >&2
  exit 1
fi
cargo leptos build --release
# The brotli (11) and gzip (9) copies the server sends as they are.
target/release/fairground precompress >/dev/null
