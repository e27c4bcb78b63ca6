#!/usr/bin/env bash
# Installs what is missing, builds the playground (release, wasm-opt) and serves it at
# http://127.0.0.1:8080/ with the default scenario. Usage: scripts/serve.sh [--port N]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
port=8080
if [ "${1:-}" = "--port" ]; then port="${2:?--port needs a number}"; fi
scripts/setup.sh
export PATH="$root/.tools/node_modules/.bin:$PATH"
echo "[serve] building and serving Commit Lab at http://127.0.0.1:$port/" >&2
# Serve from its own folder so the tests' dist/ never holds the auto-reloading development page.
exec trunk serve --release --skip-version-check --port "$port" --dist target/serve-dist
