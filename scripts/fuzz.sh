#!/usr/bin/env bash
# Every fuzz target under libFuzzer (cargo-fuzz), SECONDS each (default 30), starting from the
# seeds the stable corpus test writes. Not part of the test command (that runs every target over
# its seeds and 20,000 seeded mutations on stable): this is the longer, coverage-guided run.
# cargo-fuzz wants a nightly toolchain; on stable, RUSTC_BOOTSTRAP=1 lets it build without a
# sanitizer (`-s none`). Needs about 4 GB of disk for crates/fuzz/fuzz/target.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-30}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
CAIRN_FUZZ_SEEDS="$PWD/crates/fuzz/fuzz/corpus" cargo test -q -p cairn-fuzz --test corpus >/dev/null
cd crates/fuzz
for t in $(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^cairn-fuzz-libfuzzer$'); do
  echo "== $t"
  RUSTC_BOOTSTRAP=1 cargo fuzz run -s none --fuzz-dir fuzz "$t" "fuzz/corpus/$t" -- \
    -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -max_len=65536 2>&1 | grep -E '^Done|SUMMARY|panicked|deadly signal' || true
  test "${PIPESTATUS[0]}" -eq 0 || { echo "fuzz target $t failed; the input is under crates/fuzz/fuzz/artifacts/$t"; exit 1; }
done
