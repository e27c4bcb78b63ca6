#!/usr/bin/env bash
# Builds the playground into dist/ with the release profile and wasm-opt (setup must have run).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$root/.tools/node_modules/.bin:$PATH"
trunk build --release --skip-version-check
