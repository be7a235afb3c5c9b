#!/usr/bin/env bash
# The demo on a fresh machine, no Azure account needed: builds the provider and the local ARM
# emulator, starts the emulator, installs the provider from a local filesystem mirror, and runs
# terraform init, plan and apply on examples/quickstart/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

echo "==> building the provider and the ARM emulator"
cargo build --quiet -p terraform-provider-defender -p arm-emulator --bins
terraform=$(scripts/ensure-terraform.sh)
work="$root/.tf/demo"
rm -rf "$work" && mkdir -p "$work"

# Install the provider the way Terraform installs any provider: from a filesystem mirror.
version=$(target/debug/terraform-provider-defender --version | awk '{print $2}')
case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
platform="$(uname -s | tr '[:upper:]' '[:lower:]')_$arch"
mirror="$work/mirror/registry.terraform.io/defenderops/defender/$version/$platform"
mkdir -p "$mirror"
cp target/debug/terraform-provider-defender "$mirror/terraform-provider-defender_v$version"
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

echo "==> starting the ARM emulator"
target/debug/arm-emulator --listen 127.0.0.1:0 --port-file "$work/emulator.url" \
  --state-file "$work/emulator-state.json" 2> "$work/emulator.log" > /dev/null &
emulator=$!
trap 'kill $emulator 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$work/emulator.url" ] && break; sleep 0.05; done
url=$(cat "$work/emulator.url")
echo "    $url"

export TF_CLI_CONFIG_FILE="$work/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export ARM_METADATA_HOSTNAME="${url#http://}"
export ARM_TENANT_ID=72f988bf-86f1-41af-91ab-2d7cd011db47
export ARM_CLIENT_ID=9a0a0c65-53d2-4f3b-8b6e-3f1e3a7c1d21
export ARM_CLIENT_SECRET=emulator-demo-secret
export ARM_SUBSCRIPTION_ID=20ff7fc3-e762-44dd-bd96-b71116dcdc23

ex="$root/examples/quickstart"
rm -rf "$ex/.terraform" "$ex/.terraform.lock.hcl" "$ex"/terraform.tfstate*
echo "==> terraform init";  "$terraform" -chdir="$ex" init -input=false -no-color
echo "==> terraform plan";  "$terraform" -chdir="$ex" plan -input=false -no-color
echo "==> terraform apply"; "$terraform" -chdir="$ex" apply -input=false -auto-approve -no-color
