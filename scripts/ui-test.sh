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
. scripts/common.sh

apt_install chromium chromium chromium-driver
apt_install chromedriver chromium-driver
apt_install npm nodejs npm
if [ ! -f "$tools/npm-ui/node_modules/axe-core/axe.min.js" ]; then
  mkdir -p "$tools/npm-ui"
  npm install --prefix "$tools/npm-ui" --no-audit --no-fund --loglevel=error "axe-core@$axe_version" >/dev/null
fi
if [ ! -x "$tools/venv-ui/bin/pytest" ]; then
  python3 -m venv "$tools/venv-ui"
  "$tools/venv-ui/bin/pip" install --quiet --disable-pip-version-check \
    "selenium==$selenium_version" "pytest==$pytest_version"
fi

start_podmeta

# Selenium Manager would try to download a browser: the paths are given instead.
export SE_OFFLINE=true
PODMETA_URL="http://$podmeta_addr" \
  AXE_JS="$tools/npm-ui/node_modules/axe-core/axe.min.js" \
  SCREENSHOTS="target/ui-screenshots" \
  CHROMIUM="$(command -v chromium)" CHROMEDRIVER="$(command -v chromedriver)" \
  "$tools/venv-ui/bin/pytest" -q -s -p no:cacheprovider tests/ui
