#!/usr/bin/env bash
# The contract check: lints openapi.yaml (Redocly CLI), then runs schemathesis against the
# real release binary on a loopback port, every check on, positive and negative cases,
# a fixed seed. Installs both tools into target/ci-tools on first use. Nothing is
# excluded: any failure fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="${PODMETA_TOOLS:-target/ci-tools}"
redocly_version="2.77.0"
schemathesis_version="4.32.5"
seed="${SCHEMATHESIS_SEED:-42}"
. scripts/common.sh

apt_install npm nodejs npm
if [ ! -x "$tools/npm/node_modules/.bin/redocly" ]; then
  mkdir -p "$tools/npm"
  npm install --prefix "$tools/npm" --no-audit --no-fund --loglevel=error "@redocly/cli@$redocly_version" >/dev/null
fi
if [ ! -x "$tools/venv/bin/schemathesis" ]; then
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
fi

echo "--- redocly lint openapi.yaml"
"$tools/npm/node_modules/.bin/redocly" lint openapi.yaml 2>&1 | grep -v '[║╔╚]'
# grep hides Redocly's Node.js banner; the pipeline's status is Redocly's own.
[ "${PIPESTATUS[0]}" -eq 0 ]

echo "--- schemathesis against the release binary"
start_podmeta

"$tools/venv/bin/schemathesis" run openapi.yaml \
  --url "http://$podmeta_addr" --checks all --mode all --seed "$seed" --no-color

kill -TERM "$podmeta_pid"
status=0
wait "$podmeta_pid" || status=$?
[ "$status" -eq 0 ] || { echo "podmeta exited $status on SIGTERM"; exit 1; }
echo "contract: lint clean, schemathesis clean, clean shutdown"
