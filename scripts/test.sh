#!/usr/bin/env bash
# The test command: installs what the tests need, then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v openssl >/dev/null 2>&1; then
  echo "installing openssl (SM2 interoperability test)…"
  apt-get update -qq && apt-get install -y -qq openssl >/dev/null
fi
# With this set, the OpenSSL interop test fails instead of skipping when openssl is missing.
export CAIRN_REQUIRE_OPENSSL=1
cargo test --workspace --locked "$@"
