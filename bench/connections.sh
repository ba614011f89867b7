#!/usr/bin/env bash
# What a connection costs podmeta, and whether it holds at the counts its callers bring.
#
# Starts the release binary with its defaults, in a memory cgroup of its own, and runs
# wrk (2 threads) at 32 connections, then at each count given. For each it prints the
# rate, the errors and time-outs wrk saw, and the memory per connection two ways:
#   - RSS: (RSS with N connections open under load - RSS after the 32-connection run) / N;
#   - cgroup: (the cgroup's peak during the run - its usage after the 32-connection run)
#     / N. The cgroup counts what RSS does not: the kernel's socket objects and buffers.
#     cgroup v2's memory.peak, or v1's memory.max_usage_in_bytes.
# Loopback only; every run is bounded by wrk's duration. Installs wrk if missing.
#
# Usage: bench/connections.sh [SECONDS_PER_RUN] [COUNTS...]   (default 4; 1000 2000 4000 8000)
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-4}"
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000 2000 4000 8000)

if ! command -v wrk >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
# wrk holds every connection open: it needs as many descriptors as the largest count.
ulimit -n "$(ulimit -Hn)"

cargo build --release --locked --quiet
bin="$PWD/target/release/podmeta"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
work="$(mktemp -d)"

# A memory cgroup of its own, so that its charges are podmeta's alone.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  cg="/sys/fs/cgroup/podmeta-bench-$$"
  mkdir "$cg"
  usage_file="$cg/memory.current"; peak_file="$cg/memory.peak"
else
  cg="/sys/fs/cgroup/memory/podmeta-bench-$$"
  mkdir "$cg"
  usage_file="$cg/memory.usage_in_bytes"; peak_file="$cg/memory.max_usage_in_bytes"
fi
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rmdir "$cg" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Joins the cgroup before exec, so that every page podmeta touches is charged there.
# Its logs go to /dev/null: written to a file, their page cache would be charged too.
sh -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' _ "$cg" \
  "$bin" --bind "127.0.0.1:$port" --log-format json >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.025
done
url="http://127.0.0.1:$port/pods/eu1"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
reset_peak() { echo 0 >"$peak_file" 2>/dev/null || echo reset >"$peak_file" 2>/dev/null || true; }
# Runs wrk at $1 connections; leaves its output in $work/wrk-$1.txt and prints the RSS
# (KiB) two thirds into the run, when every connection is open and busy.
run() {
  local n="$1" rss
  wrk -t2 -c"$n" -d"${duration}s" --timeout 2s --latency "$url" >"$work/wrk-$n.txt" 2>&1 &
  local wrk_pid=$!
  sleep "$(python3 -c "print($duration*2/3)")"
  rss="$(rss_kib)"
  wait "$wrk_pid"
  echo "$rss"
}

# rate, errors (connect + read + write), time-outs and non-2xx answers of one wrk run
summary() {
  python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
connect, read, write, timeout = map(int, m.groups()) if m else (0, 0, 0, 0)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{rps:.0f} {connect + read + write} {timeout} {int(non2xx.group(1)) if non2xx else 0}")
PY
}

run 32 >/dev/null
sleep 0.5
base_rss="$(rss_kib)"
base_cg="$(cat "$usage_file")"
read -r base_rps _ <<<"$(summary "$work/wrk-32.txt")"
printf 'baseline after 32 connections: %s req/s, RSS %d KiB, cgroup %d KiB\n' \
  "$base_rps" "$base_rss" "$((base_cg / 1024))"
printf '%-12s %10s %8s %9s %8s %14s %17s\n' connections 'req/s' errors timeouts non-2xx 'RSS/conn KiB' 'cgroup/conn KiB'
for n in "${counts[@]}"; do
  reset_peak
  rss="$(run "$n")"
  peak="$(cat "$peak_file")"
  read -r rps errors timeouts non2xx <<<"$(summary "$work/wrk-$n.txt")"
  python3 -c "
n=$n
print(f'{n:<12} {$rps:>10} {$errors:>8} {$timeouts:>9} {$non2xx:>8} {($rss-$base_rss)/n:>14.1f} {($peak-$base_cg)/1024/n:>17.1f}')"
  sleep 1
done
echo "cap in force: $(curl -s "http://127.0.0.1:$port/metrics" | awk '/^podmeta_connections_max\{listener="main"\}/ {print $2}')"
