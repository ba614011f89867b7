#!/usr/bin/env bash
# The setup page in a real browser: headless Chromium (Debian's chromium and
# chromium-driver, installed if missing) driven over WebDriver by tests/ui/ (pytest and
# selenium in a venv), with axe-core from npm, against the release binary on a loopback
# port. Screenshots go to target/ui-screenshots/. Any failure fails the script; nothing is
# skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="${PODMETA_TOOLS:-target/ci-tools}"
selenium_version="4.51.0"
pytest_version="9.2.0"
axe_version="4.14.1"

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "installing chromium and chromium-driver"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "installing node and npm"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -f "$tools/npm-ui/node_modules/axe-core/axe.min.js" ]; then
  mkdir -p "$tools/npm-ui"
  npm install --prefix "$tools/npm-ui" --no-audit --no-fund --loglevel=error "axe-core@$axe_version" >/dev/null
fi
if [ ! -x "$tools/venv-ui/bin/pytest" ]; then
  python3 -m venv "$tools/venv-ui"
  "$tools/venv-ui/bin/pip" install --quiet --disable-pip-version-check \
    "selenium==$selenium_version" "pytest==$pytest_version"
fi

cargo build --release --locked --quiet
log="$(mktemp)"
./target/release/podmeta --bind 127.0.0.1:0 --log-format json >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
addr=""
for _ in $(seq 1 100); do
  addr="$(grep -o '"address":"[^"]*"' "$log" | head -1 | cut -d'"' -f4 || true)"
  [ -n "$addr" ] && break
  sleep 0.05
done
if [ -z "$addr" ]; then
  cat "$log"
  echo "podmeta did not start"
  exit 1
fi

# Selenium Manager would try to download a browser: the paths are given instead.
export SE_OFFLINE=true
PODMETA_URL="http://$addr" \
  AXE_JS="$tools/npm-ui/node_modules/axe-core/axe.min.js" \
  SCREENSHOTS="target/ui-screenshots" \
  CHROMIUM="$(command -v chromium)" CHROMEDRIVER="$(command -v chromedriver)" \
  "$tools/venv-ui/bin/pytest" -q -s -p no:cacheprovider tests/ui
