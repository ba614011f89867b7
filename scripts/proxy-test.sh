#!/usr/bin/env bash
# podmeta where its callers are: behind the pooled keep-alive upstreams of nginx and
# HAProxy, and through a rolling restart behind HAProxy. wrk drives the proxies; a
# failed request is one that wrk counts as a non-2xx answer or a socket error.
#
# 1. At the cap: podmeta at --max-connections 20 behind each proxy's pool (nginx
#    `keepalive 32`, HAProxy `http-reuse always` with `pool-max-conn 32`), 16, 24 and
#    40 callers, GET /pods/eu1 and POST /pods/eu1/bucket-policy: 0 failures.
# 2. The rollout: two replicas behind HAProxy, which checks /readyz every 250 ms; POST
#    load on 16 connections; each replica in turn sent SIGTERM and started again. With
#    --shutdown-delay 2s: 0 failures, and each stopped replica exits 0 within delay plus
#    shutdown timeout. The same rollout without the delay runs first, as the control,
#    and must lose requests (in one of three tries): that is what shows the test can
#    fail.
#
# Installs nginx, haproxy and wrk from Debian if missing. Loopback only; every run and
# wait is bounded; everything started is stopped on exit.
#
# Usage: scripts/proxy-test.sh [SECONDS_PER_RUN]   (default 3)
#   PODMETA_BIN=path   test that binary instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

seconds="${1:-3}"
apt_install nginx nginx
apt_install haproxy haproxy
apt_install wrk wrk
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
haproxy_bin="$(command -v haproxy || echo /usr/sbin/haproxy)"

if [ -z "${PODMETA_BIN:-}" ]; then
  cargo build --release --locked --quiet --bin podmeta
  PODMETA_BIN="$PWD/target/release/podmeta"
fi
ulimit -n "$(ulimit -Hn)"

work="$(mktemp -d)"
chmod 755 "$work"
pids=()
cleanup() {
  # TERM first: nginx's master then stops its worker, which would otherwise live on.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Six distinct free loopback ports, all held open at once while they are chosen: the
# main podmeta, nginx, HAProxy, and the rollout's HAProxy and two replicas.
read -r podmeta_port nginx_port haproxy_port rollout_port port_a port_b < <(python3 -c '
import socket
held = [socket.socket() for _ in range(6)]
for s in held:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))')

# wait_ready PORT [PID]: until /readyz on PORT answers 200 (at most 5 s), while PID, if
# given, is alive.
wait_ready() {
  for _ in $(seq 1 200); do
    if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
      echo "process $2 ended before port $1 was ready"
      return 1
    fi
    curl -sf "http://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0
    sleep 0.025
  done
  echo "nothing ready on port $1"
  return 1
}

# start_podmeta NAME PORT ARGS...: starts podmeta on PORT; sets pid_NAME.
start_podmeta() {
  local name="$1" port="$2"
  shift 2
  "$PODMETA_BIN" --bind "127.0.0.1:$port" --log-format json "$@" >>"$work/podmeta-$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  printf -v "pid_$name" '%s' "$pid"
  wait_ready "$port" "$pid" || { cat "$work/podmeta-$name.log"; exit 1; }
}

# load URL CONNECTIONS SECONDS METHOD: runs wrk; prints "requests failures".
load() {
  local url="$1" connections="$2" duration="$3" method="$4" script=()
  [ "$method" = POST ] && script=(--script bench/post.lua)
  wrk -t2 -c "$connections" -d "${duration}s" --timeout 5s "${script[@]}" "$url" >"$work/wrk.out" 2>&1
  awk '
    / requests in / { requests = $1 }
    /Socket errors:/ { gsub(",", ""); errors = $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { non2xx = $5 }
    END { printf "%d %d\n", requests, errors + non2xx }
  ' "$work/wrk.out"
}

start_podmeta capped "$podmeta_port" --max-connections 20

cat >"$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream podmeta { server 127.0.0.1:$podmeta_port; keepalive 32; }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://podmeta;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
"$nginx_bin" -c "$work/nginx.conf" -g 'daemon off;' >"$work/nginx.out" 2>&1 &
pids+=("$!")

# haproxy_conf PORT SERVERS...: a configuration listening on PORT, each of SERVERS a
# "name port" pair.
haproxy_conf() {
  local port="$1"
  shift
  cat <<EOF
global
  maxconn 8192
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend in
  bind 127.0.0.1:$port
  default_backend podmeta
backend podmeta
  option httpchk GET /readyz
  default-server inter 250ms fall 2 rise 2 pool-max-conn 32
EOF
  for server in "$@"; do
    set -- $server
    echo "  server $1 127.0.0.1:$2 check"
  done
}

haproxy_conf "$haproxy_port" "capped $podmeta_port" >"$work/haproxy.cfg"
"$haproxy_bin" -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
pids+=("$!")
wait_ready "$nginx_port"
wait_ready "$haproxy_port"

status=0
echo "--- at the cap: podmeta --max-connections 20 behind each proxy's pool, ${seconds} s a run"
printf '%-8s %8s %-5s %10s %9s\n' proxy callers method requests failed
for proxy in nginx haproxy; do
  port_var="${proxy}_port"
  for callers in 16 24 40; do
    for method in GET POST; do
      path=/pods/eu1
      [ "$method" = POST ] && path=/pods/eu1/bucket-policy
      read -r requests failed < <(load "http://127.0.0.1:${!port_var}$path" "$callers" "$seconds" "$method")
      printf '%-8s %8s %-5s %10s %9s\n' "$proxy" "$callers" "$method" "$requests" "$failed"
      if [ "$requests" -eq 0 ] || [ "$failed" -ne 0 ]; then status=1; fi
    done
  done
done
metric() { curl -s "http://127.0.0.1:$podmeta_port/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
echo "podmeta: shed at the soft limit $(metric 'podmeta_connections_shed_total{listener="main"}'), idle closed at the cap $(metric 'podmeta_connections_idle_closed_total{listener="main"}')"
if [ -s "$work/nginx-error.log" ]; then
  echo "nginx's error log:"
  sed -E 's/^.*\*[0-9]+ ([^,]*),.*$/\1/' "$work/nginx-error.log" | sort | uniq -c | sort -rn | head -5
fi

# rollout DELAY: the rolling restart with --shutdown-delay DELAY; sets
# rollout_requests and rollout_failed, and status=1 if a replica does not exit 0 in time.
rollout() {
  local delay="$1" timeout=5 ports=("$port_a" "$port_b") haproxy_pid
  start_podmeta a "${ports[0]}" --shutdown-delay "$delay" --shutdown-timeout "${timeout}s"
  start_podmeta b "${ports[1]}" --shutdown-delay "$delay" --shutdown-timeout "${timeout}s"
  haproxy_conf "$rollout_port" "a ${ports[0]}" "b ${ports[1]}" >"$work/rollout.cfg"
  "$haproxy_bin" -f "$work/rollout.cfg" -db >"$work/rollout-haproxy.log" 2>&1 &
  haproxy_pid=$!
  pids+=("$haproxy_pid")
  wait_ready "$rollout_port"
  sleep 1
  load "http://127.0.0.1:$rollout_port/pods/eu1/bucket-policy" 16 14 POST >"$work/rollout.result" &
  local load_pid=$!
  sleep 2
  local i=0 name pid started code
  for name in a b; do
    pid_var="pid_$name"
    pid="${!pid_var}"
    started="$(date +%s.%N)"
    kill -TERM "$pid"
    code=0
    wait "$pid" || code=$?
    local took
    took="$(python3 -c "print(round($(date +%s.%N) - $started, 2))")"
    echo "replica $name: SIGTERM, exited $code after ${took} s"
    if [ "$code" -ne 0 ] || ! python3 -c "import sys; sys.exit(0 if $took <= ${delay%s} + $timeout + 1 else 1)"; then
      echo "replica $name did not exit 0 within the delay plus the shutdown timeout"
      status=1
    fi
    # Started again on its port, as its replacement would be; HAProxy takes it back
    # once two checks pass.
    start_podmeta "$name" "${ports[$i]}" --shutdown-delay "$delay" --shutdown-timeout "${timeout}s"
    sleep 2
    i=$((i + 1))
  done
  wait "$load_pid"
  kill -TERM "$haproxy_pid" "$pid_a" "$pid_b" 2>/dev/null || true
  wait "$haproxy_pid" "$pid_a" "$pid_b" 2>/dev/null || true
  read -r rollout_requests rollout_failed <"$work/rollout.result"
}

echo "--- a rolling restart behind HAProxy (checks /readyz every 250 ms), POST on 16 connections"
# The control loses requests to a race, a few each time: it gets three tries to show it.
control_failed=0
for attempt in 1 2 3; do
  rollout 0s
  echo "without a delay (the control, try $attempt): $rollout_failed of $rollout_requests requests failed"
  control_failed="$rollout_failed"
  [ "$control_failed" -eq 0 ] || break
done
rollout 2s
echo "with --shutdown-delay 2s:       $rollout_failed of $rollout_requests requests failed"
[ "$rollout_requests" -gt 0 ] && [ "$rollout_failed" -eq 0 ] || status=1
if [ "$control_failed" -eq 0 ]; then
  echo "the control lost no request: this test could not have failed"
  status=1
fi

if [ "$status" -ne 0 ]; then
  echo "proxy test FAILED"
  exit 1
fi
echo "proxy test passed: no request lost behind nginx or HAProxy, at the cap or through the rollout"
