# Shared by the scripts that install their own tools and test the release binary
# (contract.sh, ui-test.sh). Source it from the repository's root.

# apt_install COMMAND PACKAGE...: installs the packages from Debian if COMMAND is missing.
apt_install() {
  local command="$1"
  shift
  command -v "$command" >/dev/null 2>&1 && return 0
  echo "installing $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
}

# start_podmeta: builds the release binary and starts it on a free loopback port with
# JSON logs. Sets podmeta_pid and podmeta_addr (host:port, read from the ready line);
# the process is killed and its log removed when the script exits.
start_podmeta() {
  cargo build --release --locked --quiet
  podmeta_log="$(mktemp)"
  ./target/release/podmeta --bind 127.0.0.1:0 --log-format json >"$podmeta_log" 2>&1 &
  podmeta_pid=$!
  trap 'kill "$podmeta_pid" 2>/dev/null || true; rm -f "$podmeta_log"' EXIT
  podmeta_addr=""
  for _ in $(seq 1 100); do
    podmeta_addr="$(grep -o '"address":"[^"]*"' "$podmeta_log" | head -n 1 | cut -d'"' -f4 || true)"
    [ -n "$podmeta_addr" ] && return 0
    sleep 0.1
  done
  echo "podmeta did not start:"
  cat "$podmeta_log"
  exit 1
}
