#!/usr/bin/env bash
# Terraform's floor (issue 6, item 2): `terraform plan` (refresh included) over N existing
# defender_setting resources spread over N/2 emulated subscriptions, next to the same plan over
# N terraform_data resources (Terraform's built-in provider: the floor). Interleaved runs;
# prints min/median/max of each and of the per-run ratio.
#
#   scripts/bench-floor.sh [N] [RUNS]      defaults: N=100, RUNS=5
#
# EMULATOR=path to arm-emulator (default target/release/arm-emulator if built, else debug).
# PROVIDER=path to a built terraform-provider-defender (default: build target/release's).
# PLAN_ARGS=extra arguments of both timed plans, e.g. "-refresh=false": no ReadResource, so no
#   ARM request at all; what is left above the floor is the cost of being a plugin (processes,
#   AutoMTLS, schema, UpgradeResourceState / ValidateResourceConfig / PlanResourceChange calls).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
N=${1:-100}
RUNS=${2:-5}
terraform=${TERRAFORM:-$(scripts/ensure-terraform.sh)}
PROVIDER=${PROVIDER:-}
if [[ -z "$PROVIDER" ]]; then
  cargo build --release -q -p terraform-provider-defender --features bench --bin terraform-provider-defender
  PROVIDER=target/release/terraform-provider-defender
fi
EMULATOR=${EMULATOR:-}
if [[ -z "$EMULATOR" ]]; then
  if [[ -x target/release/arm-emulator ]]; then EMULATOR=target/release/arm-emulator
  else cargo build -q -p arm-emulator --bin arm-emulator; EMULATOR=target/debug/arm-emulator; fi
fi
PLAN_ARGS=${PLAN_ARGS:-}
work="$root/target/bench/floor-$N${PLAN_ARGS:+-$(echo "$PLAN_ARGS" | tr -cd 'a-z')}"
rm -rf "$work" && mkdir -p "$work/defender" "$work/floor"

version=$("$PROVIDER" --version | awk '{print $2}')
case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
mirror="$work/mirror/registry.terraform.io/defenderops/defender/$version/linux_$arch"
mkdir -p "$mirror"
cp "$PROVIDER" "$mirror/terraform-provider-defender_v$version"
cat > "$work/terraformrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["registry.terraform.io/defenderops/*"]
  }
  direct {
    exclude = ["registry.terraform.io/defenderops/*"]
  }
}
RC

"$EMULATOR" --listen 127.0.0.1:0 --port-file "$work/emulator.url" 2> "$work/emulator.log" > /dev/null &
emulator=$!
trap 'kill $emulator 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do [ -s "$work/emulator.url" ] && break; sleep 0.05; done
url=$(cat "$work/emulator.url")

export TF_CLI_CONFIG_FILE="$work/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export ARM_METADATA_HOSTNAME="${url#http://}"
export ARM_TENANT_ID=72f988bf-86f1-41af-91ab-2d7cd011db47
export ARM_CLIENT_ID=9a0a0c65-53d2-4f3b-8b6e-3f1e3a7c1d21
export ARM_CLIENT_SECRET=emulator-bench-secret
export ARM_SUBSCRIPTION_ID=20ff7fc3-e762-44dd-bd96-b71116dcdc23

# N/2 subscriptions, two settings each (MCAS and WDATP).
cat > "$work/defender/main.tf" <<TF
terraform {
  required_providers {
    defender = { source = "defenderops/defender" }
  }
}
provider "defender" {}
locals {
  subs = [for i in range($((N / 2))) : format("00000000-0000-4000-8000-%012d", i)]
  items = flatten([for s in local.subs : [for n in ["MCAS", "WDATP"] : { sub = s, name = n }]])
}
resource "defender_setting" "s" {
  count           = length(local.items)
  subscription_id = local.items[count.index].sub
  name            = local.items[count.index].name
  enabled         = true
}
TF
cat > "$work/floor/main.tf" <<TF
resource "terraform_data" "d" {
  count = $N
  input = { sub = format("00000000-0000-4000-8000-%012d", floor(count.index / 2)), enabled = true }
}
TF

for d in defender floor; do
  "$terraform" -chdir="$work/$d" init -input=false -no-color > "$work/$d/init.log"
  "$terraform" -chdir="$work/$d" apply -input=false -auto-approve -no-color > "$work/$d/apply.log"
done

now() { date +%s.%N; }
time_plan() {
  local t0 t1
  t0=$(now)
  "$terraform" -chdir="$work/$1" plan -input=false -no-color -lock=false -detailed-exitcode $PLAN_ARGS > "$work/$1/plan.log" ||
    { echo "plan in $1 failed or not empty (exit $?)" >&2; cat "$work/$1/plan.log" >&2; exit 1; }
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}
: > "$work/times.tsv"
for r in $(seq 1 "$RUNS"); do
  if (( r % 2 )); then a=$(time_plan defender); b=$(time_plan floor)
  else b=$(time_plan floor); a=$(time_plan defender); fi
  printf '%s\t%s\t%s\n' "$r" "$a" "$b" | tee -a "$work/times.tsv" >&2
done
python3 - "$work/times.tsv" "$N" <<'PY'
import statistics, sys
rows = [l.split('\t') for l in open(sys.argv[1]).read().split('\n') if l]
d = [float(r[1]) for r in rows]; f = [float(r[2]) for r in rows]; q = [a / b for a, b in zip(d, f)]
fmt = lambda v: f"{min(v):.3f} | {statistics.median(v):.3f} | {max(v):.3f}"
print(f"| N={sys.argv[2]} | min | median | max |\n|---|---|---|---|")
print(f"| plan defender_setting (s) | {fmt(d)} |\n| plan terraform_data (s) | {fmt(f)} |\n| ratio (per run) | {fmt(q)} |")
PY
