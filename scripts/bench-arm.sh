#!/usr/bin/env bash
# ARM round trips and eventual consistency (issue 6, items 3 and 4), against the ARM emulator.
#
#   scripts/bench-arm.sh [RUNS] [N...]     defaults: RUNS=5, N = 100 500
#
# 1. For each N: N defender_setting resources (N/2 emulated subscriptions) are applied with no
#    latency; then the emulator adds LATENCY_MS (50) to every request and `terraform plan`
#    (refresh included, must be empty) is timed next to the same plan over N terraform_data
#    resources (the floor), interleaved, RUNS times. Expected = N x LATENCY / PARALLELISM
#    (Terraform's -parallelism, 10) + floor; the ratio plan / expected is the figure. Every
#    defender plan's emulator request log is checked: exactly one GET per managed resource, no
#    other ARM request.
# 2. One DINE policy assignment with its role assignment and a remediation (wait = true) is
#    created with the latency on: every request of the apply is listed (method, path, status)
#    and counted; the apply is timed.
# 3. Eventual consistency: the same create with the policy assignment answering 404 for LAG ms
#    after its PUT (`not_found_after_create_ms`) and the new identity replicating for LAG ms
#    (`principal_replication_ms`), no added latency, for LAG in LAGS (0 2000 5000): the create's
#    duration (assignment PUT to the end of the create's last request, from the request log)
#    against LAG + 1 s. RUNS runs per LAG, interleaved.
#
# EMULATOR / PROVIDER: prebuilt binaries (default: release builds of both).
# BASELINE: a second provider binary (e.g. main's, before a change) timed in section 1 side by
#   side with PROVIDER, in a third directory interleaved with the other two.
# NAMED=1: section 1 also plans a fourth directory with the same provider told its endpoints
#   (ARM_RESOURCE_MANAGER_ENDPOINT, ARM_ACTIVE_DIRECTORY_AUTHORITY_HOST) instead of discovering
#   them from ARM_METADATA_HOSTNAME: no metadata round trip, as on Azure's public cloud, whose
#   endpoints the provider knows.
# SECTIONS: which of 1 2 3 to run (default all).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
RUNS=${1:-5}
shift || true
NS=("$@")
[ ${#NS[@]} -gt 0 ] || NS=(100 500)
LATENCY_MS=${LATENCY_MS:-50}
PARALLELISM=${PARALLELISM:-10}
LAGS=${LAGS:-"0 2000 5000"}
SECTIONS=${SECTIONS:-"1 2 3"}
want() { [[ " $SECTIONS " == *" $1 "* ]]; }
terraform=${TERRAFORM:-$(scripts/ensure-terraform.sh)}
PROVIDER=${PROVIDER:-}
if [[ -z "$PROVIDER" ]]; then
  cargo build --release -q -p terraform-provider-defender --bin terraform-provider-defender
  PROVIDER=target/release/terraform-provider-defender
fi
EMULATOR=${EMULATOR:-}
if [[ -z "$EMULATOR" ]]; then
  cargo build --release -q -p arm-emulator --bin arm-emulator
  EMULATOR=target/release/arm-emulator
fi
work="$root/target/bench/arm"
rm -rf "$work" && mkdir -p "$work"

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
BASELINE=${BASELINE:-}
if [[ -n "$BASELINE" ]]; then
  bversion=$("$BASELINE" --version | awk '{print $2}')
  bmirror="$work/mirror-baseline/registry.terraform.io/defenderops/defender/$bversion/linux_$arch"
  mkdir -p "$bmirror"
  cp "$BASELINE" "$bmirror/terraform-provider-defender_v$bversion"
  sed "s|$work/mirror|$work/mirror-baseline|" "$work/terraformrc" > "$work/terraformrc-baseline"
fi
export TF_CLI_CONFIG_FILE="$work/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export ARM_TENANT_ID=72f988bf-86f1-41af-91ab-2d7cd011db47
export ARM_CLIENT_ID=9a0a0c65-53d2-4f3b-8b6e-3f1e3a7c1d21
export ARM_CLIENT_SECRET=emulator-bench-secret
export ARM_SUBSCRIPTION_ID=20ff7fc3-e762-44dd-bd96-b71116dcdc23

emulator_pid=
url=
start_emulator() { # args: extra emulator flags
  stop_emulator
  rm -f "$work/emulator.url"
  "$EMULATOR" --listen 127.0.0.1:0 --port-file "$work/emulator.url" "$@" 2>> "$work/emulator.log" > /dev/null &
  emulator_pid=$!
  for _ in $(seq 1 200); do [ -s "$work/emulator.url" ] && break; sleep 0.05; done
  url=$(cat "$work/emulator.url")
  export ARM_METADATA_HOSTNAME="${url#http://}"
}
stop_emulator() {
  if [[ -n "$emulator_pid" ]]; then kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; fi
  emulator_pid=
}
trap stop_emulator EXIT
set_latency() { curl -sf -X POST -H 'content-type: application/json' -d "{\"latency_ms\": $1}" "$url/_emulator/config" > /dev/null; }
clear_log() { curl -sf -X DELETE "$url/_emulator/requests" > /dev/null; }
save_log() { curl -sf "$url/_emulator/requests" > "$1"; }
now() { date +%s.%N; }
tf() { # the baseline directory installs the baseline provider; "named" names the endpoints
  if [[ $1 == */baseline ]]; then TF_CLI_CONFIG_FILE="$work/terraformrc-baseline" "$terraform" -chdir="$1" "${@:2}"
  elif [[ $1 == */named ]]; then
    ARM_METADATA_HOSTNAME= ARM_RESOURCE_MANAGER_ENDPOINT="$url" ARM_ACTIVE_DIRECTORY_AUTHORITY_HOST="$url" \
      "$terraform" -chdir="$1" "${@:2}"
  else "$terraform" -chdir="$1" "${@:2}"; fi
}

stats() { # reads numbers on stdin, prints "min | median | max"
  python3 -c '
import statistics, sys
v = [float(x) for x in sys.stdin.read().split()]
print(f"{min(v):.3f} | {statistics.median(v):.3f} | {max(v):.3f}")'
}

# ---------------------------------------------------------------------------------------------
# 1. Plans with latency, one GET per resource
: > "$work/report.md"
want 1 && echo "## 1. terraform plan with ${LATENCY_MS} ms per ARM request (parallelism $PARALLELISM)" | tee -a "$work/report.md"
want 1 && for N in "${NS[@]}"; do
  d="$work/plan-$N"
  mkdir -p "$d/defender" "$d/floor"
  start_emulator
  cat > "$d/defender/main.tf" <<TF
terraform {
  required_providers {
    defender = { source = "defenderops/defender" }
  }
}
provider "defender" {}
locals {
  subs  = [for i in range($((N / 2))) : format("00000000-0000-4000-8000-%012d", i)]
  items = flatten([for s in local.subs : [for n in ["MCAS", "WDATP"] : { sub = s, name = n }]])
}
resource "defender_setting" "s" {
  count           = length(local.items)
  subscription_id = local.items[count.index].sub
  name            = local.items[count.index].name
  enabled         = true
}
TF
  plans=(defender floor)
  if [[ -n "$BASELINE" ]]; then
    plans+=(baseline)
    mkdir -p "$d/baseline" && cp "$d/defender/main.tf" "$d/baseline/main.tf"
  fi
  if [[ -n "${NAMED:-}" ]]; then
    plans+=(named)
    mkdir -p "$d/named" && cp "$d/defender/main.tf" "$d/named/main.tf"
  fi
  cat > "$d/floor/main.tf" <<TF
resource "terraform_data" "d" {
  count = $N
  input = { sub = format("00000000-0000-4000-8000-%012d", floor(count.index / 2)), enabled = true }
}
TF
  for x in "${plans[@]}"; do
    tf "$d/$x" init -input=false -no-color > "$d/$x/init.log"
    tf "$d/$x" apply -input=false -auto-approve -no-color > "$d/$x/apply.log"
  done
  set_latency "$LATENCY_MS"
  time_plan() {
    local t0 t1
    [[ $1 == defender || $1 == named ]] && clear_log
    t0=$(now)
    tf "$d/$1" plan -input=false -no-color -lock=false -detailed-exitcode -parallelism="$PARALLELISM" > "$d/$1/plan.log" ||
      { echo "plan in $1 failed or not empty (exit $?)" >&2; cat "$d/$1/plan.log" >&2; exit 1; }
    t1=$(now)
    [[ $1 == defender ]] && save_log "$d/requests-$2.json"
    [[ $1 == named ]] && save_log "$d/requests-named-$2.json"
    echo "$t1 - $t0" | bc -l
  }
  : > "$d/times.tsv"
  for r in $(seq 1 "$RUNS"); do
    # Rotate the order, so that no directory always goes first.
    declare -A took=()
    k=${#plans[@]}
    for i in $(seq 0 $((k - 1))); do x=${plans[$(((i + r) % k))]}; took[$x]=$(time_plan "$x" "$r"); done
    # The same plan with no latency: the provider's own floor, for the second reading of the
    # target (latency absorbed over what the plan costs without it).
    set_latency 0
    own=$(time_plan defender "0$r")
    set_latency "$LATENCY_MS"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "${took[defender]}" "${took[floor]}" "${took[baseline]:-}" "$own" "${took[named]:-}" | tee -a "$d/times.tsv" >&2
    unset took
  done
  set_latency 0
  python3 - "$d" "$N" "$LATENCY_MS" "$PARALLELISM" "$RUNS" <<'PY' | tee -a "$work/report.md"
import collections, json, statistics, sys
d, n, lat, par, runs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rows = [l.split('\t') for l in open(f"{d}/times.tsv").read().split('\n') if l]
plan = [float(r[1]) for r in rows]; floor = [float(r[2]) for r in rows]
base = [float(r[3]) for r in rows if len(r) > 3 and r[3]]
own = [float(r[4]) for r in rows]
named = [float(r[5]) for r in rows if len(r) > 5 and r[5]]
expected = [n * lat / 1000 / par + f for f in floor]
ratio = [p / e for p, e in zip(plan, expected)]
fmt = lambda v: f"{min(v):.3f} | {statistics.median(v):.3f} | {max(v):.3f}"
gets_min, gets_max, others, arm_total = [], [], [], []
for r in range(1, runs + 1):
    log = json.load(open(f"{d}/requests-{r}.json"))
    arm = [e for e in log if e["path"].startswith("/subscriptions") or e["path"].startswith("/providers")]
    gets = collections.Counter(e["path"].lower() for e in arm if e["method"] == "GET"
                               and "/providers/microsoft.security/settings/" in e["path"].lower())
    if len(gets) != n:
        sys.exit(f"run {r}: {len(gets)} resources read, expected {n}")
    gets_min.append(min(gets.values())); gets_max.append(max(gets.values()))
    others.append(len(arm) - sum(gets.values())); arm_total.append(len(arm))
print(f"\n### N = {n} ({runs} runs, interleaved)\n")
print("| figure | min | median | max |\n|---|---|---|---|")
print(f"| plan defender_setting (s) | {fmt(plan)} |")
print(f"| plan terraform_data = floor (s) | {fmt(floor)} |")
print(f"| expected = N x {lat:.0f} ms / {par} + floor (s) | {fmt(expected)} |")
print(f"| **ratio plan / expected** (per run) | {fmt(ratio)} |")
own_expected = [n * lat / 1000 / par + o for o in own]
print(f"| plan defender_setting with no latency = own floor (s) | {fmt(own)} |")
print(f"| ratio plan / (N x {lat:.0f} ms / {par} + own floor) (per run) | {fmt([p / e for p, e in zip(plan, own_expected)])} |")
if base:
    print(f"| plan defender_setting, BASELINE provider (s) | {fmt(base)} |")
    print(f"| ratio BASELINE plan / expected (per run) | {fmt([b / e for b, e in zip(base, expected)])} |")
    print(f"| ratio plan / BASELINE plan (per run) | {fmt([p / b for p, b in zip(plan, base)])} |")
if named:
    print(f"| plan defender_setting, endpoints named (no metadata request) (s) | {fmt(named)} |")
    print(f"| **ratio named plan / expected** (per run) | {fmt([p / e for p, e in zip(named, expected)])} |")
    print(f"| ratio named plan / (N x {lat:.0f} ms / {par} + own floor) (per run) | {fmt([p / e for p, e in zip(named, own_expected)])} |")
    print(f"| ratio named plan / plan (per run) | {fmt([a / b for a, b in zip(named, plan)])} |")
    meta = []
    for r in range(1, runs + 1):
        log = json.load(open(f"{d}/requests-named-{r}.json"))
        meta.append(sum(1 for e in log if e["path"].startswith("/metadata/")))
        gets = collections.Counter(e["path"].lower() for e in log if e["method"] == "GET"
                                   and "/providers/microsoft.security/settings/" in e["path"].lower())
        if len(gets) != n or max(gets.values()) != 1:
            sys.exit(f"named run {r}: {len(gets)} resources read, max {max(gets.values())} GETs")
    print(f"| metadata requests per named plan | {fmt(meta)} |")
print(f"| ARM requests per plan | {fmt(arm_total)} |")
print(f"| GETs per managed resource (min over resources) | {fmt(gets_min)} |")
print(f"| GETs per managed resource (max over resources) | {fmt(gets_max)} |")
print(f"| other ARM requests per plan | {fmt(others)} |")
PY
  stop_emulator
done

# ---------------------------------------------------------------------------------------------
# 2 and 3. A DINE policy assignment with roles and remediation
dine_config() { # dir
  mkdir -p "$1"
  cat > "$1/main.tf" <<TF
terraform {
  required_providers {
    defender = { source = "defenderops/defender" }
  }
}
provider "defender" {}
resource "defender_policy_assignment" "deps" {
  policy   = "dependency-agent-windows"
  scope    = "/subscriptions/$ARM_SUBSCRIPTION_ID"
  location = "westeurope"
  remediation = {
    wait = true
  }
}
TF
  tf "$1" init -input=false -no-color > "$1/init.log"
}

d="$work/dine"
dine_config "$d"
if want 2; then
start_emulator --remediation-step-ms 100
set_latency "$LATENCY_MS"
: > "$d/apply-times.txt"
for r in $(seq 1 "$RUNS"); do
  clear_log
  t0=$(now)
  tf "$d" apply -input=false -auto-approve -no-color > "$d/apply-$r.log"
  t1=$(now)
  echo "$t1 - $t0" | bc -l >> "$d/apply-times.txt"
  save_log "$d/requests-$r.json"
  tf "$d" destroy -input=false -auto-approve -no-color > "$d/destroy-$r.log"
done
stop_emulator
{
  echo
  echo "## 2. Requests per create of a DINE assignment with roles and remediation (${LATENCY_MS} ms per request)"
  echo
  echo "\`terraform apply\` wall time (s, min | median | max over $RUNS): $(stats < "$d/apply-times.txt")"
  python3 - "$d/requests-1.json" <<'PY'
import json, re, sys
log = [e for e in json.load(open(sys.argv[1])) if not e["path"].startswith("/_emulator")]
guid = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
print("\n| # | method | path (GUIDs as {guid}) | status |\n|---|---|---|---|")
arm = 0
for i, e in enumerate(log, 1):
    p = guid.sub("{guid}", e["path"])
    print(f"| {i} | {e['method']} | `{p}` | {e['status']} |")
    arm += e["path"].startswith("/subscriptions") or e["path"].startswith("/providers")
print(f"\n{len(log)} requests in all, {arm} of them to ARM (the others: cloud metadata, token).")
PY
} | tee -a "$work/report.md"
fi

# 3. Eventual consistency
want 3 || { echo "report: $work/report.md" >&2; exit 0; }
: > "$d/lag.tsv"
for r in $(seq 1 "$RUNS"); do
  for lag in $LAGS; do
    fault="{\"method\":\"PUT\",\"path\":\"policyAssignments\",\"not_found_after_create_ms\":$lag}"
    start_emulator --remediation-step-ms 100 --principal-replication-ms "$lag" --fault "$fault"
    dir="$work/lag-$lag"
    [ -d "$dir" ] || dine_config "$dir"
    rm -f "$dir/terraform.tfstate" "$dir/terraform.tfstate.backup" # a fresh emulator: a create again
    tf "$dir" apply -input=false -auto-approve -no-color > "$dir/apply-$r.log"
    save_log "$dir/requests-$r.json"
    python3 - "$dir/requests-$r.json" "$lag" "$r" <<'PY' | tee -a "$d/lag.tsv" >&2
import datetime, json, sys
log = json.load(open(sys.argv[1]))
def t(e):
    s = e["time"].rstrip("Z")
    base, frac = (s.split(".") + ["0"])[:2]
    return datetime.datetime.fromisoformat(base).timestamp() + float("0." + frac)
put = next(e for e in log if e["method"] == "PUT" and "policyassignments/" in e["path"].lower())
start = t(put)
end = max(t(e) + e["duration_ms"] / 1000 for e in log if t(e) >= start)
g404 = sum(1 for e in log if e["method"] == "GET" and "policyassignments/" in e["path"].lower() and e["status"] == 404)
pnf = sum(1 for e in log if e["status"] == 400 and "roleassignments" in e["path"].lower())
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{end - start:.3f}\t{g404}\t{pnf}")
PY
    stop_emulator
  done
done
python3 - "$d/lag.tsv" <<'PY' | tee -a "$work/report.md"
import collections, statistics, sys
rows = [l.split('\t') for l in open(sys.argv[1]).read().split('\n') if l]
by = collections.defaultdict(list)
for lag, run, dur, g404, pnf in rows:
    by[int(lag)].append((float(dur), int(g404), int(pnf)))
fmt = lambda v: f"{min(v):.3f} | {statistics.median(v):.3f} | {max(v):.3f}"
print("\n## 3. DINE create under eventual consistency (no added latency)\n")
print("create = assignment PUT to the end of the create's last request (request log).\n")
print("| lag (ms) | create (s) min / median / max | create − lag (s) | 404 GETs (median) | PrincipalNotFound | within lag + 1 s? |")
print("|---|---|---|---|---|---|")
for lag in sorted(by):
    d = [x[0] for x in by[lag]]
    over = [x - lag / 1000 for x in d]
    ok = "yes" if max(over) <= 1.0 else "no"
    print(f"| {lag} | {fmt(d).replace(' | ', ' / ')} | {fmt(over).replace(' | ', ' / ')} | "
          f"{statistics.median(x[1] for x in by[lag]):.0f} | {max(x[2] for x in by[lag])} | {ok} |")
PY
echo "report: $work/report.md" >&2
