#!/usr/bin/env bash
# The policies as infrastructure code, read by the tools their users run: for every pod of
# the release binary's table, python-hcl2 parses both Terraform files (their statements
# must be exactly the JSON policy's), and cfn-lint lints both CloudFormation templates
# (no error; their PolicyDocument must equal the JSON policy) (scripts/iac_check.py).
# Installs the tools, pinned, into a venv under target/ci-tools on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="${PODMETA_TOOLS:-target/ci-tools}"
python_hcl2_version="8.1.4"
cfn_lint_version="1.58.0"
pyyaml_version="6.0.3"
. scripts/common.sh

venv="$tools/venv-iac"
if ! "$venv/bin/python" -c "import hcl2, yaml, cfnlint" 2>/dev/null \
  || ! "$venv/bin/cfn-lint" --version 2>/dev/null | grep -qF "$cfn_lint_version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "python-hcl2==$python_hcl2_version" "cfn-lint==$cfn_lint_version" "pyyaml==$pyyaml_version"
fi

start_podmeta
out="$(mktemp -d)"
trap 'kill "$podmeta_pid" 2>/dev/null || true; rm -f "$podmeta_log"; rm -rf "$out"' EXIT

"$venv/bin/python" scripts/iac_check.py "http://$podmeta_addr" "$out"
echo "--- cfn-lint $cfn_lint_version on $(ls "$out"/*.yaml | wc -l) templates"
"$venv/bin/cfn-lint" --format parseable -- "$out"/*.yaml
echo "iac-check: passed"
