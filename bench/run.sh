#!/usr/bin/env bash
# podmeta against nginx serving the same bytes, side by side on this machine.
#
# Builds the release binary, starts podmeta (as shipped: every middleware, default
# logging) and nginx (2 workers, access log off, the identical JSON body as a static
# file, worker_connections and worker_rlimit_nofile raised above 8,000), both under the
# same open-file limit and both in the foreground as children of this script, on
# loopback ports, and measures with wrk (2 threads):
#   - the sweep (bench/sweep.py): GET /pods/eu1 at 32, 1,000, 2,000, 4,000 and 8,000
#     connections, podmeta, the floor and nginx one after the other in each of 3 rounds
#     (which goes first rotates): rate, p99, errors, time-outs and memory per
#     connection, with the ratios. The floor (bench/floor.rs) is hyper and tokio alone
#     on podmeta's connection model, answering with the bytes and headers podmeta gave:
#     what the dependencies cost without any feature of ours;
#   - on a fresh podmeta: GET and POST /pods/eu1/bucket-policy alternately at 32
#     connections, 3 rounds, the POST rate against the GET rate (median of the rounds'
#     ratios), and the peak RSS after that load;
#   - start-up to ready; a generated table of 1,000 pods: start-up, and the GET rate
#     against 4 pods.
# Ends with a table of every target and its verdict (the sweep's from bench/verdicts.py),
# and exits 1 if any is not met. A rate or p99 target that the floor misses too in the
# same rounds, with podmeta within 10% of the floor on that measure, is marked "missed, as
# is the floor" and does not fail the run: what is left to gain there is in hyper and
# tokio, not in our code.
# Installs wrk and nginx if missing. Every loop is bounded; everything it starts is
# stopped and its temporary files removed on exit.
#
# Usage: bench/run.sh [SECONDS_PER_RUN] [COUNTS]   (default 4; 32,1000,2000,4000,8000)
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-4}"
counts="${2:-32,1000,2000,4000,8000}"
rounds=3
connections=32
# Both servers get the same descriptor limit: the hard limit, enough for 8,000
# connections and wrk's own.
ulimit -n "$(ulimit -Hn)"
nofile="$(ulimit -n)"
work="$(mktemp -d)"
# nginx workers drop root for an unprivileged user, which must be able to read the body.
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.2
  rm -rf "$work"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || ! need nginx; then
  echo "installing wrk and nginx" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq wrk nginx >/dev/null
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"

echo "building the release binary" >&2
cargo build --release --locked --quiet --bin podmeta --example floor
bin="$PWD/target/release/podmeta"
floor_bin="$PWD/target/release/examples/floor"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts podmeta with extra arguments; sets $podmeta_pid and $podmeta_port.
start_podmeta() {
  podmeta_port="$(free_port)"
  "$bin" --bind "127.0.0.1:$podmeta_port" "$@" >"$work/podmeta-$podmeta_port.log" 2>&1 &
  podmeta_pid=$!
  pids+=("$podmeta_pid")
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$podmeta_port/readyz" >/dev/null 2>&1 && return 0
    sleep 0.025
  done
  echo "podmeta did not start" >&2
  cat "$work/podmeta-$podmeta_port.log" >&2
  exit 1
}

# wrk's requests/s and p99 latency (in ms) for one run: "RPS P99".
measure() {
  local url="$1"; shift
  local out
  out="$(wrk -t2 -c"$connections" -d"${duration}s" --latency "$@" "$url")"
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers from $url:" >&2; echo "$out" >&2; exit 1; fi
  local rps p99
  rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; print v}' <<<"$out")"
  echo "$rps $p99"
}

ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
median() { python3 -c "import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }

# --- podmeta, 4 pods, as shipped
start_podmeta
main_pid=$podmeta_pid
main_port=$podmeta_port

# --- nginx serving the same bytes
nginx_port="$(free_port)"
mkdir -p "$work/www/pods" "$work/nginx-tmp"
curl -sf "http://127.0.0.1:$main_port/pods/eu1" -o "$work/www/pods/eu1" -D "$work/eu1.headers"
# nginx stays in the foreground, a child of this script as podmeta and wrk are: a daemon
# would start a session of its own, and with the kernel's autogroup scheduling (on by
# default) a session is a scheduling group of its own, which podmeta is not given.
cat >"$work/nginx.conf" <<NGINX
daemon off;
worker_processes 2;
worker_rlimit_nofile $nofile;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 10000; }
http {
  access_log off;
  client_body_temp_path $work/nginx-tmp;
  proxy_temp_path $work/nginx-tmp;
  fastcgi_temp_path $work/nginx-tmp;
  uwsgi_temp_path $work/nginx-tmp;
  scgi_temp_path $work/nginx-tmp;
  server {
    listen 127.0.0.1:$nginx_port backlog=1024;
    root $work/www;
    default_type application/json;
  }
}
NGINX
"$nginx_bin" -c "$work/nginx.conf" -p "$work" &
nginx_pid=$!
pids+=("$nginx_pid")
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$nginx_port/pods/eu1" >/dev/null 2>&1 && break; sleep 0.05; done
cmp <(curl -sf "http://127.0.0.1:$nginx_port/pods/eu1") "$work/www/pods/eu1"
nginx_workers="$(pgrep -P "$nginx_pid" | paste -sd,)"

# --- the floor, answering with podmeta's body and headers
floor_port="$(free_port)"
"$floor_bin" "127.0.0.1:$floor_port" "$work/www/pods/eu1" "$work/eu1.headers" >"$work/floor.log" 2>&1 &
floor_pid=$!
pids+=("$floor_pid")
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$floor_port/pods/eu1" >/dev/null 2>&1 && break; sleep 0.05; done
cmp <(curl -sf "http://127.0.0.1:$floor_port/pods/eu1") "$work/www/pods/eu1"

echo "warming up" >&2
wrk -t2 -c"$connections" -d2s "http://127.0.0.1:$main_port/pods/eu1" >/dev/null
wrk -t2 -c"$connections" -d2s "http://127.0.0.1:$nginx_port/pods/eu1" >/dev/null
wrk -t2 -c"$connections" -d2s "http://127.0.0.1:$floor_port/pods/eu1" >/dev/null

echo "the sweep" >&2
sweep="$(python3 bench/sweep.py --podmeta "http://127.0.0.1:$main_port/pods/eu1" "$main_pid" \
  --floor "http://127.0.0.1:$floor_port/pods/eu1" "$floor_pid" \
  --nginx "http://127.0.0.1:$nginx_port/pods/eu1" "$nginx_workers" \
  --counts "$counts" --seconds "$duration" --rounds "$rounds" --raw "$work/sweep.json")"
kill "$main_pid" "$floor_pid"

# --- a fresh podmeta at 32 connections: GET, then POST, then its peak RSS
start_podmeta
main_pid=$podmeta_pid
main_port=$podmeta_port
# GET and POST alternately in each round, as every other target is measured: one run of
# each put the ratio at the mercy of a single run's noise (a fresh GET has made 142k).
get_rates=()
post_rates=()
post_ratios=()
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds: GET, then POST /pods/eu1/bucket-policy" >&2
  read -r get_rps _ < <(measure "http://127.0.0.1:$main_port/pods/eu1")
  read -r post_rps _ < <(measure "http://127.0.0.1:$main_port/pods/eu1/bucket-policy" -s bench/post.lua)
  get_rates+=("$get_rps")
  post_rates+=("$post_rps")
  post_ratios+=("$(ratio "$post_rps" "$get_rps")")
done
get_rps_median="$(median "${get_rates[@]}")"
post_rps_median="$(median "${post_rates[@]}")"

rss_peak_kib="$(awk '/^VmHWM:/ {print $2}' "/proc/$main_pid/status")"
rss_now_kib="$(awk '/^VmRSS:/ {print $2}' "/proc/$main_pid/status")"

echo "start-up, 4 pods" >&2
startup_4="$(python3 bench/startup.py "$bin" 9)"

# --- 1,000 pods
python3 bench/gen_table.py 1000 "$work/pods-1000.toml"
"$bin" check "$work/pods-1000.toml" >&2
echo "start-up, 1,000 pods" >&2
startup_1000="$(python3 bench/startup.py "$bin" 9 --config "$work/pods-1000.toml")"
start_podmeta --config "$work/pods-1000.toml"
big_port=$podmeta_port
wrk -t1 -c"$connections" -d2s "http://127.0.0.1:$big_port/pods/eu1" >/dev/null
growth_ratios=()
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds: 1,000 pods against 4" >&2
  read -r big_rps _ < <(measure "http://127.0.0.1:$big_port/pods/eu1")
  read -r small_rps _ < <(measure "http://127.0.0.1:$main_port/pods/eu1")
  growth_ratios+=("$(ratio "$big_rps" "$small_rps")")
done

verdict() { python3 -c "print('met' if $1 else 'NOT MET')"; }
post_ratio="$(median "${post_ratios[@]}")"
# The sweep's own targets, one row each, with the floor's figures beside podmeta's.
sweep_rows="$(python3 bench/verdicts.py "$work/sweep.json")"
growth_ratio="$(median "${growth_ratios[@]}")"
rss_peak_mib="$(python3 -c "print(f'{$rss_peak_kib/1024:.1f}')")"

report="$(cat <<TABLE

podmeta $(git describe --always --dirty 2>/dev/null || echo '?'), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
wrk 2 threads, ${duration} s per run, $rounds rounds (order rotating); open-file limit $nofile for every server

$sweep

Every ratio is the median of the rounds' ratios; "floor" is bench/floor.rs's figure in
the same rounds.

| measure | podmeta | ratio | floor | target | |
| --- | --- | --- | --- | --- | --- |
$sweep_rows
| POST /pods/eu1/bucket-policy, req/s (fresh process, median) | $post_rps_median | $post_ratio of GET ($get_rps_median) | | >= 0.5 (aim 0.7) | $(verdict "$post_ratio >= 0.5") |
| peak RSS of a fresh process after the 32-connection runs, MiB | $rss_peak_mib | | | <= 16 (aim 8) | $(verdict "$rss_peak_kib <= 16384") |
| start-up to ready, ms (median of 9) | $startup_4 | | | <= 50 (aim 20) | $(verdict "$startup_4 <= 50") |
| start-up to ready, 1,000 pods, ms | $startup_1000 | | | <= 200 | $(verdict "$startup_1000 <= 200") |
| GET req/s, 1,000 pods against 4 | | $growth_ratio | | >= 0.95 | $(verdict "$growth_ratio >= 0.95") |

POST/GET ratios per round: ${post_ratios[*]}
growth ratios per round: ${growth_ratios[*]}
RSS now: $(python3 -c "print(f'{$rss_now_kib/1024:.1f}')") MiB
TABLE
)"
echo "$report"
# The exit status says whether every target was met, or missed only where the floor
# misses it too, so that a script can act on it.
unmet="$(grep -c "NOT MET" <<<"$report" || true)"
floors="$(grep -c "missed, as is the floor" <<<"$report" || true)"
if [ "$floors" -gt 0 ]; then
  echo "$floors target(s) missed where hyper and tokio alone miss them too" >&2
fi
if [ "$unmet" -gt 0 ]; then
  echo "$unmet target(s) NOT MET" >&2
  exit 1
fi
