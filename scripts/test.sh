#!/usr/bin/env bash
# Runs every test of Jiesu: Rust unit, property and integration tests (against the real `jiesu`
# binary), then the real-browser end-to-end tests (headless Debian Chromium via playwright-core).
# Installs what is missing first (Debian chromium, npm packages), so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]} (Debian packages)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

echo "== web UI: npm ci + build"
(cd web && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build --silent)

echo "== Rust: build and test (cargo nextest)"
cargo build --workspace --bins
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi

echo "== browser: end-to-end in headless Chromium"
target=${CARGO_TARGET_DIR:-$root/target}
(cd web && JIESU_BIN="$target/debug/jiesu" npm run --silent test:e2e)
echo "== all tests passed"
