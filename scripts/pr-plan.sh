#!/usr/bin/env bash
# The pull-request workflow (examples/ci/github-actions.yml) run locally against the ARM
# emulator: terraform init, validate and plan with OIDC — ARM_USE_OIDC=true, no client secret,
# the ID token requested from the emulator's GitHub-style endpoint (/_oidc/github) — then the
# Defender for Cloud coverage audit (`terraform-provider-defender audit --format markdown`, with
# the same credentials), and the plan and the audit written as the pull-request comment's
# markdown body.
#
#   scripts/pr-plan.sh            # plans examples/quickstart, writes .tf/pr-plan/comment.md
#
# Environment (all optional):
#   PR_PLAN_EXAMPLE   the root module to plan (default examples/quickstart; copied, not modified)
#   PR_PLAN_BASE      the root module as the base branch has it, applied first so the plan starts
#                     from the state the base branch left (as a real pull-request plan does from
#                     the remote backend). Default: the same as PR_PLAN_EXAMPLE (the plan then says
#                     "No changes"); empty: start from no state.
#   PR_PLAN_WORK      working directory (default .tf/pr-plan; emptied first)
#   PROVIDER_BIN, EMULATOR_BIN   prebuilt binaries (both set: no cargo build)
#   PR_PLAN_OIDC_REQUEST_TOKEN   the runner's request token (default a placeholder; the
#                     emulator, like GitHub, only needs a bearer token)
#   TERRAFORM         a Terraform CLI >= 1.14 (else scripts/ensure-terraform.sh finds one)
#   PR_PLAN_AUDIT_FAIL_ON   low|medium|high|critical: exit 1 when the audit finds something at
#                     least this severe (after the comment is written). Default: report only.
#
# Exit status: 0 when the plan ran (changes or not), 1 when a step failed (or the audit found
# something at PR_PLAN_AUDIT_FAIL_ON or worse). The comment body, the plan, the audit
# (audit.md) and the emulator's request logs (requests.json for the plan, audit-requests.json
# for the audit) are left in the working directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

example=${PR_PLAN_EXAMPLE:-$root/examples/quickstart}
base=${PR_PLAN_BASE-$example}
work=${PR_PLAN_WORK:-$root/.tf/pr-plan}
provider_bin=${PROVIDER_BIN:-}
emulator_bin=${EMULATOR_BIN:-}
if [ -z "$provider_bin" ] || [ -z "$emulator_bin" ]; then
  echo "==> building the provider and the ARM emulator" >&2
  cargo build --quiet -p terraform-provider-defender -p arm-emulator --bins
  provider_bin=$root/target/debug/terraform-provider-defender
  emulator_bin=$root/target/debug/arm-emulator
fi
terraform=$(scripts/ensure-terraform.sh)
rm -rf "$work" && mkdir -p "$work/config" "$work/base"

# Install the provider as Terraform installs any provider: from a filesystem mirror.
version=$("$provider_bin" --version | awk '{print $2}')
case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
platform="$(uname -s | tr '[:upper:]' '[:lower:]')_$arch"
mirror="$work/mirror/registry.terraform.io/defenderops/defender/$version/$platform"
mkdir -p "$mirror"
cp "$provider_bin" "$mirror/terraform-provider-defender_v$version"
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

# The checked-out root modules, without local state or .terraform.
copy_module() { find "$1" -maxdepth 1 -type f \( -name '*.tf' -o -name '*.tfvars' \) -exec cp {} "$2/" \; ; }
copy_module "$example" "$work/config"
[ -z "$base" ] || copy_module "$base" "$work/base"

echo "==> starting the ARM emulator" >&2
"$emulator_bin" --listen 127.0.0.1:0 --port-file "$work/emulator.url" \
  2> "$work/emulator.log" > /dev/null &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do [ -s "$work/emulator.url" ] && break; sleep 0.05; done
[ -s "$work/emulator.url" ] || { echo "the emulator did not start; see $work/emulator.log" >&2; exit 1; }
url=$(cat "$work/emulator.url")
echo "    $url" >&2

# What the workflow's job has: ARM_USE_OIDC, IDs, and the runner's ID-token request URL and
# token. No secret, no certificate, no Azure CLI.
unset ARM_CLIENT_SECRET ARM_CLIENT_SECRET_FILE_PATH ARM_CLIENT_CERTIFICATE \
  ARM_CLIENT_CERTIFICATE_PATH ARM_CLIENT_CERTIFICATE_PASSWORD ARM_OIDC_TOKEN \
  ARM_OIDC_TOKEN_FILE_PATH ARM_USE_MSI ARM_USE_AKS_WORKLOAD_IDENTITY ARM_ENVIRONMENT \
  ACTIONS_ID_TOKEN_REQUEST_URL ACTIONS_ID_TOKEN_REQUEST_TOKEN ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID \
  ARM_OIDC_AZURE_SERVICE_CONNECTION_ID SYSTEM_OIDCREQUESTURI SYSTEM_ACCESSTOKEN TF_CLI_ARGS
export TF_CLI_CONFIG_FILE="$work/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0
export ARM_METADATA_HOSTNAME="${url#http://}"
export ARM_USE_OIDC=true ARM_USE_CLI=false
export ARM_OIDC_REQUEST_URL="$url/_oidc/github"
export ARM_OIDC_REQUEST_TOKEN="${PR_PLAN_OIDC_REQUEST_TOKEN-local-runner-request-token}"
export ARM_TENANT_ID=${PR_PLAN_TENANT_ID:-72f988bf-86f1-41af-91ab-2d7cd011db47}
export ARM_CLIENT_ID=${PR_PLAN_CLIENT_ID:-9a0a0c65-53d2-4f3b-8b6e-3f1e3a7c1d21}
export ARM_SUBSCRIPTION_ID=${PR_PLAN_SUBSCRIPTION_ID:-20ff7fc3-e762-44dd-bd96-b71116dcdc23}

cfg="$work/config"
tf() { "$terraform" -chdir="$cfg" "$@"; }

# The base branch, applied: the state the pull request's plan starts from. (In CI that state is
# in the remote backend; the apply ran on the base branch.) The provider authenticates lazily, at
# its first ARM request, so without existing state a plan that only creates may send none.
if [ -n "$base" ]; then
  echo "==> base branch: terraform apply ($(basename "$base"))" >&2
  { "$terraform" -chdir="$work/base" init -input=false -no-color &&
    "$terraform" -chdir="$work/base" apply -input=false -auto-approve -no-color; } \
    > "$work/base.log" 2>&1 || { cat "$work/base.log" >&2; exit 1; }
  cp "$work/base/terraform.tfstate" "$cfg/terraform.tfstate"
  curl -fsS -X DELETE "$url/_emulator/requests" > /dev/null
fi

# The workflow's steps, in its order.
echo "==> terraform init" >&2
tf init -input=false -no-color > "$work/init.log" 2>&1 || { cat "$work/init.log" >&2; exit 1; }
echo "==> terraform validate" >&2
tf validate -no-color > "$work/validate.log" 2>&1 || { cat "$work/validate.log" >&2; exit 1; }
echo "==> terraform plan" >&2
set +e
tf plan -input=false -no-color -lock=false -detailed-exitcode -out=tfplan > "$work/plan.log" 2>&1
code=$?
set -e
cat "$work/plan.log" >&2
# What the emulator saw during the plan (no token or secret is ever in this log).
curl -fsS "$url/_emulator/requests" > "$work/requests.json" || true
curl -fsS -X DELETE "$url/_emulator/requests" > /dev/null || true

# The workflow's audit step: the coverage of the subscription, read only, same credentials.
echo "==> terraform-provider-defender audit" >&2
audit_args=(audit --subscription "$ARM_SUBSCRIPTION_ID" --format markdown --output "$work/audit.md")
[ -z "${PR_PLAN_AUDIT_FAIL_ON:-}" ] || audit_args+=(--fail-on "$PR_PLAN_AUDIT_FAIL_ON")
set +e
"$provider_bin" "${audit_args[@]}" 2> "$work/audit.log"
audit_code=$?
set -e
cat "$work/audit.log" >&2
curl -fsS "$url/_emulator/requests" > "$work/audit-requests.json" || true

# The comment body, as the workflow's "Comment body" step writes it.
{
  echo "<!-- terraform-plan:$(basename "$example") -->"
  echo "### Terraform plan: \`$(basename "$example")\`"
  echo
  if [ "$code" = "1" ]; then
    echo "**Plan failed.**"
    echo
    echo '```text'
    tail -c 60000 "$work/plan.log"
    echo '```'
  else
    tf show -no-color tfplan > "$work/plan.txt"
    summary=$(grep -E '^(Plan:|No changes\.)' "$work/plan.txt" | head -n 1 || true)
    echo "**${summary:-Plan}**"
    echo
    echo "<details><summary>Show plan</summary>"
    echo
    echo '```terraform'
    tail -c 60000 "$work/plan.txt"
    echo '```'
    echo
    echo "</details>"
  fi
  echo
  # Exit 2: the audit could not run (its error is in the comment); 0/1: the report.
  if [ "$audit_code" = "2" ] || [ ! -s "$work/audit.md" ]; then
    echo "**Defender for Cloud audit failed.**"
    echo
    echo '```text'
    tail -c 4000 "$work/audit.log"
    echo '```'
  else
    cat "$work/audit.md"
  fi
  echo
  echo "_scripts/pr-plan.sh against the ARM emulator_"
} > "$work/comment.md"

echo "==> comment body: $work/comment.md" >&2
[ "$code" != "1" ] && [ "$audit_code" != "1" ]
