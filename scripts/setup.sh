#!/usr/bin/env bash
# Installs everything Commit Lab needs to build and test, skipping what is already present at the
# right version. Both README commands call this, so a fresh machine and a warm one take one path.
# Usage: scripts/setup.sh [--browser]   (--browser also installs Chromium, chromedriver and Mermaid)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
want_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

log() { printf '[setup] %s\n' "$*" >&2; }

# Registries can fail for a moment; a failed install is tried again before giving up.
retry() {
  local attempt
  for attempt in 1 2 3; do
    "$@" && return 0
    log "attempt $attempt failed: $*"
    sleep $((attempt * 5))
  done
  return 1
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  retry rustup target add wasm32-unknown-unknown
fi

if [ "$want_browser" = 1 ] && { ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; }; then
  log "installing chromium and chromium-driver"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  retry $sudo_cmd apt-get update -qq
  retry env DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver >/dev/null
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk 0.21.14" ]; then
  log "installing trunk 0.21.14 (about 5 minutes)"
  retry env CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install trunk --version 0.21.14 --locked --no-default-features
fi

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen 0.2.130" ]; then
  log "installing wasm-bindgen-cli 0.2.130 (about 3 minutes)"
  retry cargo install wasm-bindgen-cli --version 0.2.130
fi

if [ "$("$tools/node_modules/.bin/wasm-opt" --version 2>/dev/null | awk '{print $3}')" != "132" ]; then
  log "installing wasm-opt (binaryen 132) from npm into .tools"
  mkdir -p "$tools"
  retry npm install --prefix "$tools" --no-audit --no-fund --silent binaryen@132.0.0 >/dev/null
fi

# The end-to-end tests render exported Mermaid text with the real Mermaid library.
if [ "$want_browser" = 1 ] && [ "$(node -p "require('$tools/node_modules/mermaid/package.json').version" 2>/dev/null)" != "11.17.2" ]; then
  log "installing mermaid from npm into .tools (for the export test)"
  mkdir -p "$tools"
  retry npm install --prefix "$tools" --no-audit --no-fund --silent mermaid@11.17.2 >/dev/null
fi
