#!/usr/bin/env bash
# Installs what is missing (wasm target, trunk, wasm-bindgen, wasm-opt, Chromium and chromedriver),
# builds the site, then runs every test: the wasm component tests in headless Chromium, and the
# native tests (unit, property, pinned scenarios, command line, end to end in headless Chromium).
# Ends with one line that totals every test binary's result.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh --browser
scripts/build-web.sh
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "[test] wasm component tests in headless Chromium" >&2
cargo test -p commitlab-web --target wasm32-unknown-unknown --locked 2>&1 | tee -a "$log"
echo "[test] native tests" >&2
cargo test --workspace --locked 2>&1 | tee -a "$log"
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) passed += $i; if ($(i+1) ~ /^failed/) failed += $i } }
     END { printf "all tests: %d passed, %d failed\n", passed, failed }' "$log"
