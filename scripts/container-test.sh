#!/usr/bin/env bash
# Builds the unchanged Dockerfile with podman from local stand-ins of the two public base
# images (no registry is reachable here), runs the image on a loopback port, and checks:
#   - the image is at most 12 MB, holds no shell (`--entrypoint /bin/sh` fails), and its
#     binary is static (no program interpreter) and says what it is made of: `cargo audit
#     bin` reads its embedded dependency list and finds no advisory (offline database);
#   - it answers /healthz, and its own HEALTHCHECK (`podmeta healthcheck`) passes;
#   - it serves the same bytes for /pods/eu1 as the binary built from this tree;
#   - it runs as a non-root user, on a read-only root filesystem with no capabilities;
#   - `podman stop` returns within 5 s and podmeta exits 0 (it handles SIGTERM as PID 1);
#   - run with the Deployment's memory limit, args and environment, and flooded with twice
#     its connection cap (loopback only, bounded in time), it is not killed, its admin
#     port's /healthz answers a fresh client throughout, and /pods/eu1 is served normally
#     afterwards. Prints the cgroup's memory before and at the peak, and per connection.
# Prints the image size and how long it all took. Exits 3 if podman can't be had here.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

shared="${PODMETA_SHARED:-$(cd .. && pwd)/shared}"
work="${PODMETA_IMAGES_WORK:-/var/tmp/podmeta-offline-images}"
image="localhost/podmeta:test"

if ! command -v podman >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq podman buildah runc debootstrap uidmap >/dev/null; }; then
    echo "container test: podman cannot be installed here"
    exit 3
  fi
fi

# Where the folder beside the clone has the offline stand-ins of the base images, they are
# made and used; elsewhere (a contributor's clone) podman pulls the real ones.
pull=missing
if [ -f "$shared/container/offline-base-images.sh" ]; then
  echo "--- base images (debootstrap; kept in $work between runs)"
  bash "$shared/container/offline-base-images.sh" "$work" >/dev/null
  # shellcheck disable=SC1091
  source "$work/env.sh"
  pull=never
else
  echo "--- no offline base images beside this clone: podman pulls the base images"
fi

echo "--- podman build"
podman build --pull="$pull" --network=host --format docker -t "$image" . >/dev/null
size_bytes=$(podman image inspect "$image" --format '{{.Size}}')
[ "$size_bytes" -le 12000000 ] || { echo "FAIL: the image is $size_bytes bytes, over 12 MB"; exit 1; }
echo "ok: the image is $(python3 -c "print(f'{$size_bytes/1e6:.1f} MB')")"

if podman run --rm --entrypoint /bin/sh "$image" -c true >/dev/null 2>&1; then
  echo "FAIL: the image has a shell"
  exit 1
fi
echo "ok: no /bin/sh in the image"

# The binary, taken out of the image: static, and carrying its dependency list.
extracted="target/container/podmeta"
mkdir -p "$(dirname "$extracted")"
holder=$(podman create "$image")
copied=0
podman cp "$holder:/usr/local/bin/podmeta" "$extracted" || copied=$?
podman rm "$holder" >/dev/null
[ "$copied" -eq 0 ] || { echo "FAIL: cannot copy the binary out of the image"; exit 1; }
if readelf -l "$extracted" | grep -q "program interpreter"; then
  echo "FAIL: the binary needs a dynamic loader"
  exit 1
fi
echo "ok: the binary is static, $(python3 -c "print(f'{$(stat -c %s "$extracted")/1e6:.1f} MB')")"
if ! command -v cargo-audit >/dev/null 2>&1; then
  cargo install --locked --quiet cargo-audit
fi
audit_db=()
[ -d "$shared/advisory-db" ] && audit_db=(--db "$shared/advisory-db" --no-fetch)
audit="$(cargo audit "${audit_db[@]}" --deny warnings bin "$extracted" 2>&1)" \
  || { echo "$audit"; echo "FAIL: cargo audit bin"; exit 1; }
# Without the embedded list it would guess from panic messages and still pass: require it.
grep -q "Found 'cargo auditable' data" <<<"$audit" \
  || { echo "$audit"; echo "FAIL: the binary carries no cargo auditable data"; exit 1; }
echo "ok: cargo audit bin: $(grep -o "Found 'cargo auditable' data.*" <<<"$audit"); no advisories"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
name="podmeta-test-$$"
flood_name="podmeta-flood-$$"
binary_pid=""
cleanup() {
  podman rm -f "$name" "$flood_name" >/dev/null 2>&1 || true
  [ -n "$binary_pid" ] && kill "$binary_pid" 2>/dev/null || true
}
trap cleanup EXIT

echo "--- podman run on 127.0.0.1:$port"
podman run -d --name "$name" -p "127.0.0.1:$port:8080" \
  --read-only --cap-drop=ALL --security-opt=no-new-privileges \
  --health-interval=disable "$image" >/dev/null
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { podman logs "$name"; echo "FAIL: no answer on /healthz"; exit 1; }
echo "ok: /healthz answers"

podman healthcheck run "$name" >/dev/null || { echo "FAIL: the image's HEALTHCHECK fails"; exit 1; }
echo "ok: HEALTHCHECK (podmeta healthcheck) passes"

cargo build --release --locked --quiet
binary_port=$(free_port)
./target/release/podmeta --bind "127.0.0.1:$binary_port" >/dev/null 2>&1 &
binary_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$binary_port/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
if ! cmp -s <(curl -sf "http://127.0.0.1:$port/pods/eu1") <(curl -sf "http://127.0.0.1:$binary_port/pods/eu1"); then
  echo "FAIL: the container's /pods/eu1 differs from the binary's"
  exit 1
fi
echo "ok: /pods/eu1 is byte for byte the binary's"

# No `id` in the image: ask the host which user the container's PID 1 runs as.
uid=$(ps -o uid= -p "$(podman inspect "$name" --format '{{.State.Pid}}')" | tr -d ' ')
[ "$uid" = "10001" ] || { echo "FAIL: runs as uid $uid, not 10001"; exit 1; }
echo "ok: runs as uid $uid (image user $(podman inspect "$name" --format '{{.Config.User}}'))"

stop_started=$(date +%s%N)
podman stop -t 10 "$name" >/dev/null
stop_ms=$(( ($(date +%s%N) - stop_started) / 1000000 ))
exit_code=$(podman inspect "$name" --format '{{.State.ExitCode}}')
[ "$stop_ms" -lt 5000 ] || { echo "FAIL: podman stop took ${stop_ms} ms"; exit 1; }
[ "$exit_code" = "0" ] || { echo "FAIL: podmeta exited $exit_code on SIGTERM"; podman logs "$name" | tail -5; exit 1; }
echo "ok: podman stop took ${stop_ms} ms; podmeta exited 0"

echo "--- the Deployment's memory limit, args and environment, flooded with twice the cap"
venv="${PODMETA_TOOLS:-target/ci-tools}/venv-container"
if ! "$venv/bin/python" -c 'import yaml' >/dev/null 2>&1; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "pyyaml==6.0.2"
fi
# The container of the Deployment, as podman flags: memory, environment, args.
deployment="$("$venv/bin/python" - <<'PY'
import shlex, yaml
c = yaml.safe_load(open("deploy/kubernetes/deployment.yaml"))["spec"]["template"]["spec"]["containers"][0]
limit = c["resources"]["limits"]["memory"]
assert limit.endswith("Mi"), limit
print("memory=" + shlex.quote(limit[:-2] + "m"))
print("env_flags=(" + " ".join(shlex.quote(f"--env={e['name']}={e['value']}") for e in c["env"]) + ")")
print("args=(" + " ".join(shlex.quote(a) for a in c["args"]) + ")")
PY
)"
eval "$deployment"
cap=""
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--max-connections" ] && cap="${args[$((i + 1))]}"
done
[ -n "$cap" ] || { echo "FAIL: the Deployment sets no --max-connections"; exit 1; }
flood_port=$(free_port)
admin_port=$(free_port)
podman run -d --name "$flood_name" -p "127.0.0.1:$flood_port:8080" -p "127.0.0.1:$admin_port:9090" \
  --memory="$memory" --memory-swap="$memory" \
  --read-only --cap-drop=ALL --security-opt=no-new-privileges --health-interval=disable \
  "${env_flags[@]}" "$image" "${args[@]}" >/dev/null
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$admin_port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
pid=$(podman inspect "$flood_name" --format '{{.State.Pid}}')
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  cgroup="/sys/fs/cgroup$(awk -F: '$1 == "0" {print $3}' "/proc/$pid/cgroup")"
  usage_file="$cgroup/memory.current"; peak_file="$cgroup/memory.peak"
else
  cgroup="/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" {print $3}' "/proc/$pid/cgroup")"
  usage_file="$cgroup/memory.usage_in_bytes"; peak_file="$cgroup/memory.max_usage_in_bytes"
fi
before=$(cat "$usage_file")
echo "limit $memory, cap $cap; flooding with $((2 * cap)) connections for 20 s"
# Two callers, each holding as many connections as the cap: the open-file limit here is
# 20,000 per process.
flood_out="$(mktemp)"
python3 scripts/flood.py 127.0.0.1 "$flood_port" "$cap" 20 >"$flood_out.1" &
flood1=$!
python3 scripts/flood.py 127.0.0.1 "$flood_port" "$cap" 20 >"$flood_out.2" &
flood2=$!
probes=0; probe_failures=0; most_open=0
while kill -0 "$flood1" 2>/dev/null || kill -0 "$flood2" 2>/dev/null; do
  probes=$((probes + 1))
  if ! curl -sf --max-time 2 "http://127.0.0.1:$admin_port/healthz" >/dev/null; then
    probe_failures=$((probe_failures + 1))
    echo "  /healthz on the admin port failed at probe $probes"
  fi
  open=$(curl -sf --max-time 2 "http://127.0.0.1:$admin_port/metrics" \
    | awk '/^podmeta_connections_open\{listener="main"\}/ {print $2}' || true)
  [ -n "$open" ] && [ "$open" -gt "$most_open" ] && most_open=$open
  sleep 0.5
done
wait "$flood1" "$flood2"
echo "callers: $(cat "$flood_out.1") $(cat "$flood_out.2")"
rm -f "$flood_out" "$flood_out.1" "$flood_out.2"
peak=$(cat "$peak_file")
state=$(podman inspect "$flood_name" --format '{{.State.Status}} oom={{.State.OOMKilled}}')
echo "memory: $((before / 1048576)) MiB before, $((peak / 1048576)) MiB at the peak," \
  "$(( (peak - before) / 1024 / cap )) KiB per connection over $cap; most open: $most_open"
[ "$state" = "running oom=false" ] || { echo "FAIL: after the flood the container is $state"; podman logs "$flood_name" | tail -5; exit 1; }
echo "ok: not killed under the $memory limit"
[ "$most_open" -le "$cap" ] || { echo "FAIL: $most_open connections open, past the cap of $cap"; exit 1; }
[ "$probe_failures" -eq 0 ] || { echo "FAIL: $probe_failures of $probes admin probes failed during the flood"; exit 1; }
echo "ok: the admin port's /healthz answered all $probes probes during the flood"
if ! cmp -s <(curl -sf --max-time 5 "http://127.0.0.1:$flood_port/pods/eu1") <(curl -sf "http://127.0.0.1:$binary_port/pods/eu1"); then
  echo "FAIL: after the flood, /pods/eu1 is not served as the binary serves it"
  exit 1
fi
echo "ok: after the flood, /pods/eu1 is served normally"
podman rm -f "$flood_name" >/dev/null

echo "container test passed: image $(python3 -c "print(f'{$size_bytes/1e6:.1f} MB')"), binary $(stat -c %s "$extracted") bytes, took $(( $(date +%s) - started )) s"
