#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (or number of executions) and prints each
# one's execution count. Any crash fails the script; libFuzzer leaves the input in
# fuzz/artifacts/TARGET/ (turn it into a regression test, then fix it).
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [MAX_RUNS]   (default 60 s; MAX_RUNS -1: no cap)
# Needs the nightly toolchain; installs cargo-fuzz when missing.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-60}"
runs="${2:--1}"
targets=(table_loader bucket_name lambda_arn lookup request policy_check)

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi
cargo +nightly fuzz build -O >/dev/null 2>&1 || cargo +nightly fuzz build -O

# The table loader starts from the real table.
mkdir -p corpus/table_loader
cp ../config/pods.toml corpus/table_loader/pods.toml
# Whole requests start from one of each kind: a pre-rendered GET and a bucket-policy
# POST (each with a request id, so that each is answered twice and compared), a POST
# without one, a lookup.
mkdir -p corpus/request
printf 'GET\n/pods/eu1\nhost: x\nx-request-id: f1\naccept-encoding: gzip\n\n' >corpus/request/get
printf 'POST\n/pods/eu1/bucket-policy\nhost: x\ncontent-type: application/json\n\n{"bucket": "mp-forwarding-acme"}' >corpus/request/post
printf 'POST\n/pods/EU1/bucket-policy\nhost: x\nx-request-id: f2\ncontent-type: application/json\norigin: https://a.example\n\n{"bucket": "mp-x"}' >corpus/request/post-compared
printf 'GET\n/lookup?host=sftp.mparticle.com\nhost: x\n\n' >corpus/request/lookup
# The policy checks start from a right bucket policy, one in AWS's other spellings, and
# the Rules IAM policy.
mkdir -p corpus/policy_check
cargo run --quiet --manifest-path ../Cargo.toml -- bucket-policy eu1 --bucket mp-forwarding-acme >corpus/policy_check/bucket
cargo run --quiet --manifest-path ../Cargo.toml -- iam-policy au1 >corpus/policy_check/iam
printf '{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"583371261087"},"NotAction":"s3:Get*","Resource":"arn:aws:s3:::mp-forwarding-*/*","Condition":{"StringNotEqualsIfExists":{"aws:SourceVpce":["v"]},"ForAnyValue:StringLike":{"aws:PrincipalArn":"arn:*"}}}}' >corpus/policy_check/spellings
# And the shapes the strict reading refuses: a Host that is no host, a repeated key, a
# content-coded body, a body announced past the limit, a port past 65535, an
# Accept-Encoding that refuses everything, a preflight for If-Match.
printf 'GET\n/pods/eu1\nhost: exa mple:80\n\n' >corpus/request/bad-host
printf 'POST\n/pods/eu1/bucket-policy\nhost: x\ncontent-type: application/json\n\n{"bucket":"Evil..Name","bucket":"mp-forwarding-good"}' >corpus/request/repeated-key
printf 'POST\n/lookup\nhost: x\ncontent-type: application/json\ncontent-encoding: gzip\n\n{"q":"x"}' >corpus/request/coded-body
printf 'POST\n/pods/eu1/bucket-policy\nhost: x\ncontent-type: application/json\ncontent-length: 10000000\nexpect: 100-continue\n\n' >corpus/request/announced-too-large
printf 'GET\n/lookup?host=sftp.mparticle.com:999999\nhost: x\n\n' >corpus/request/port
printf 'GET\n/ui/eu1\nhost: x\nx-request-id: f3\naccept-encoding: identity;q=0\n\n' >corpus/request/not-acceptable
printf 'OPTIONS\n/pods/eu1\nhost: x\norigin: https://a.example\naccess-control-request-method: GET\naccess-control-request-headers: if-match\n\n' >corpus/request/preflight

for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  log="$(mktemp)"
  status=0
  cargo +nightly fuzz run -O "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -runs="$runs" -print_final_stats=1 >"$log" 2>&1 || status=$?
  executed="$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log")"
  if [ "$status" -ne 0 ]; then
    tail -40 "$log"
    echo "fuzz: $target FAILED after ${executed:-?} executions (see fuzz/artifacts/$target/)"
    rm -f "$log"
    exit 1
  fi
  # A run that hardly ran (a bad flag, a target that returns at once) proves nothing.
  if [ "${executed:-0}" -lt 1000 ]; then
    tail -20 "$log"
    echo "fuzz: $target ran only ${executed:-0} executions"
    rm -f "$log"
    exit 1
  fi
  echo "fuzz: $target: ${executed} executions, no crash"
  rm -f "$log"
done
