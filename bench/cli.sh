#!/usr/bin/env bash
# The command line's speed: each document command as a whole process (start, load the
# compiled-in table, answer, exit), as a script calling it in a loop sees it, with
# hyperfine. Beside it, in the same run, two references:
#   - `podmeta --version`: the process alone, with no table loaded;
#   - `curl` asking a running podmeta for the same answer (GET /pods/eu1), which is what
#     a script would do without the command line.
# Each command must answer in under 10 ms on average; the script fails if one does not.
# Installs hyperfine if missing. Every run is bounded (RUNS runs after WARMUP).
#
# Usage: bench/cli.sh [RUNS]   (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-200}"
warmup=20
limit_ms=10

if ! command -v hyperfine >/dev/null 2>&1; then
  echo "installing hyperfine"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null
fi
cargo build --release --locked --quiet
bin="$PWD/target/release/podmeta"
work="$(mktemp -d)"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=18093
"$bin" --bind "127.0.0.1:$port" --log-format json >/dev/null 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.05
done

# -N runs each command without a shell, so that the figure is the process's own.
hyperfine -N --warmup "$warmup" --runs "$runs" --style basic \
  --export-json "$work/cli.json" \
  -n 'reference: podmeta --version' "$bin --version" \
  -n 'reference: curl GET /pods/eu1 from a running podmeta' "curl -s http://127.0.0.1:$port/pods/eu1" \
  -n 'podmeta pods' "$bin pods" \
  -n 'podmeta get eu1' "$bin get eu1" \
  -n 'podmeta bucket-policy eu1' "$bin bucket-policy eu1 --bucket mp-forwarding-acme" \
  -n 'podmeta iam-policy eu1' "$bin iam-policy eu1" \
  -n 'podmeta lambda-arn eu1' "$bin lambda-arn eu1 --account-id 123456789012 --function mprmyrule --alias PROD" \
  -n 'podmeta sdks eu1 --sdk python --snippet' "$bin sdks eu1 --sdk python --snippet" \
  -n 'podmeta lookup (a URL)' "$bin lookup https://app.eu1.mparticle.com/login" \
  -n 'podmeta get zz9 (a problem, exit 1)' -i "$bin get zz9" \
  >/dev/null

python3 - "$work/cli.json" "$limit_ms" <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
limit = float(sys.argv[2])
ms = lambda s: s * 1000
curl = next(r for r in results if r["command"].startswith("reference: curl"))
print(f"| command | mean ms | median ms | max ms | vs curl to a running server |")
print(f"| --- | --- | --- | --- | --- |")
slow = []
for r in results:
    ratio = r["mean"] / curl["mean"]
    print(f"| `{r['command']}` | {ms(r['mean']):.2f} | {ms(r['median']):.2f} | {ms(r['max']):.2f} | {ratio:.2f}x |")
    if not r["command"].startswith("reference") and ms(r["mean"]) >= limit:
        slow.append(r["command"])
if slow:
    print(f"\nover {limit:g} ms on average: {', '.join(slow)}")
    sys.exit(1)
print(f"\nevery command under {limit:g} ms on average")
EOF
