#!/usr/bin/env bash
# Runs every fuzz target of provider/fuzz for a bounded time (RELIABILITY.md).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 60)
#
# With cargo-fuzz, libFuzzer drives each target (nightly, or RUSTC_BOOTSTRAP=1 on stable; no
# sanitizer so a stable toolchain's runtime suffices), starting from the committed corpus in
# provider/fuzz/corpus/<target>; new inputs libFuzzer finds go to a scratch copy, so the
# repository's corpus stays small (merge interesting ones by hand). Without cargo-fuzz — or with
# FUZZ_STABLE=1 — the same harnesses run as `cargo test` in provider/fuzz: the corpus, then
# fixed-seed mutations for SECONDS_PER_TARGET each (src/lib.rs `tests`).
set -euo pipefail
cd "$(dirname "$0")/../provider"
secs="${1:-60}"
targets=(msgpack_decode json_decode state_json_decode arm_response ids_parse render_assignment)

if [[ "${FUZZ_STABLE:-0}" != 1 ]] && cargo fuzz --version >/dev/null 2>&1; then
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  toolchain=()
  if rustup toolchain list 2>/dev/null | grep -q nightly; then toolchain=(+nightly); else export RUSTC_BOOTSTRAP=1; fi
  for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t"
    cp -r "fuzz/corpus/$t/." "$scratch/$t/" 2>/dev/null || true
    echo "== $t (${secs}s, libFuzzer)"
    if ! cargo "${toolchain[@]}" fuzz run --sanitizer none "$t" "$scratch/$t" -- \
      -max_total_time="$secs" -print_final_stats=1 >"$scratch/$t.log" 2>&1; then
      tail -40 "$scratch/$t.log"
      exit 1
    fi
    grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$scratch/$t.log" || true
  done
else
  echo "cargo-fuzz unavailable (or FUZZ_STABLE=1): running the harnesses on stable for ${secs}s each"
  FUZZ_SECS="$secs" cargo test --manifest-path fuzz/Cargo.toml --release -- --nocapture --test-threads=1 2>&1 |
    grep -E 'no panic|^test |test result|panicked'
fi
