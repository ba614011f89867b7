#!/usr/bin/env bash
# Builds the unchanged Dockerfile with podman from local stand-ins of the two public base
# images (no registry is reachable here), runs the image on a loopback port, and checks:
#   - it answers /healthz, and its own HEALTHCHECK (`podmeta healthcheck`) passes;
#   - it serves the same bytes for /pods/eu1 as the binary built from this tree;
#   - it runs as a non-root user, on a read-only root filesystem with no capabilities;
#   - `podman stop` returns within 5 s and podmeta exits 0 (it handles SIGTERM as PID 1).
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

echo "--- base images (debootstrap; kept in $work between runs)"
bash "$shared/container/offline-base-images.sh" "$work" >/dev/null
# shellcheck disable=SC1091
source "$work/env.sh"

echo "--- podman build"
podman build --pull=never --network=host --format docker -t "$image" . >/dev/null
size_bytes=$(podman image inspect "$image" --format '{{.Size}}')

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
name="podmeta-test-$$"
binary_pid=""
cleanup() {
  podman rm -f "$name" >/dev/null 2>&1 || true
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

uid=$(podman exec "$name" id -u)
[ "$uid" != "0" ] || { echo "FAIL: runs as root"; exit 1; }
echo "ok: runs as uid $uid (image user $(podman inspect "$name" --format '{{.Config.User}}'))"

stop_started=$(date +%s%N)
podman stop -t 10 "$name" >/dev/null
stop_ms=$(( ($(date +%s%N) - stop_started) / 1000000 ))
exit_code=$(podman inspect "$name" --format '{{.State.ExitCode}}')
[ "$stop_ms" -lt 5000 ] || { echo "FAIL: podman stop took ${stop_ms} ms"; exit 1; }
[ "$exit_code" = "0" ] || { echo "FAIL: podmeta exited $exit_code on SIGTERM"; podman logs "$name" | tail -5; exit 1; }
echo "ok: podman stop took ${stop_ms} ms; podmeta exited 0"

echo "container test passed: image $(python3 -c "print(f'{$size_bytes/1e6:.1f} MB')"), took $(( $(date +%s) - started )) s"
