#!/usr/bin/env bash
# The full load runs (RELIABILITY.md): 200 subscriptions × every plan and setting, applied with
# -parallelism=50 against an emulator enforcing ARM's per-subscription limits (and, second,
# small buckets that make throttling certain). Minutes each; CI runs the 10-subscription one.
set -euo pipefail
cd "$(dirname "$0")/.."
export TERRAFORM="${TERRAFORM:-$(bash scripts/ensure-terraform.sh)}"
cargo test -p terraform-provider-defender --test acceptance -- --ignored --nocapture \
  --test-threads=1 load:: 2>&1 | grep -E '^load:|^test |test result'
