#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer) of the ingest parsers and of image
# validation and decoding, starting from the corpus kept in fuzz/corpus/<target>.
#
#   scripts/fuzz.sh            # 30 s per target (what CI runs)
#   scripts/fuzz.sh 3600       # an hour per target
#
# New inputs found go to a scratch copy of the corpus (merge them into fuzz/corpus by hand with
# `cargo fuzz cmin` when they add coverage); a crash leaves its input in fuzz/artifacts and
# fails the script. Prints `bench: fuzz_<target>_execs <n> runs` per target.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz from crates.io"
  cargo install cargo-fuzz --locked
fi
# A nightly toolchain builds with AddressSanitizer; stable builds without sanitizers.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=(+nightly); sanitizer=()
else
  toolchain=(); sanitizer=(-s none)
fi
# The fuzz crate is not a workspace member; it must not use the workspace's target dir.
unset CARGO_TARGET_DIR

# Our parsers are fuzzed with debug assertions and overflow checks on. The image target decodes
# with third-party decoders, fuzzed as they ship in the release build (`-O`: no overflow
# checks): zune-jpeg 0.5.15, the latest, multiplies with overflow on some corrupt JPEGs
# (bitstream.rs:400), which wraps in the release build and panics only with overflow checks;
# the platform decodes only in its recognition workers, which contain a decoder's panic.
build_flags() {
  case "$1" in
    image) echo "-O" ;;
    *) echo "" ;;
  esac
}

status=0
for target in ingest image; do
  scratch=$(mktemp -d)
  cp fuzz/corpus/"$target"/* "$scratch"/
  log=$(mktemp)
  echo "== fuzz $target for ${secs}s"
  # shellcheck disable=SC2046
  if ! (cd fuzz && cargo "${toolchain[@]}" fuzz run $(build_flags "$target") "${sanitizer[@]}" "$target" \
        "$scratch" -- -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1) >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz target $target FAILED; the input is in fuzz/artifacts/$target"
    status=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  echo "bench: fuzz_${target}_execs ${execs:-0} runs"
  echo "bench: fuzz_${target}_coverage ${cov:-0} edges"
  rm -rf "$scratch" "$log"
done
exit $status
