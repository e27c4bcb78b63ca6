#!/usr/bin/env bash
# Measures the playground: wasm size (raw and gzip), time from navigation to the first diagram,
# and frame times while the busy preset plays at 10x, in headless Chromium. Prints, never asserts.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh --browser
scripts/build-web.sh
cargo run --release -p commitlab-e2e --bin web-bench
