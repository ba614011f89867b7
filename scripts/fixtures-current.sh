#!/usr/bin/env bash
# Checks that tests/fixtures holds current copies of the reference documents kept beside
# the clone (in PODMETA_SHARED, by default ../shared), and fails naming the first that
# differs. A clone with no such folder (a contributor's) has nothing to compare with:
# that is said in one line, and it passes.
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${PODMETA_SHARED:-../shared}"
if [ ! -d "$shared" ]; then
  echo "SKIPPED: no $shared beside this clone, so no reference documents to compare the fixtures with"
  exit 0
fi
for pair in seed/data-hosting-locations.md reference/mparticle-facts.md; do
  if ! cmp -s "$shared/$pair" "tests/fixtures/$(basename "$pair")"; then
    echo "tests/fixtures/$(basename "$pair") differs from $shared/$pair (or one is missing): copy the reference over, in a commit of its own"
    exit 1
  fi
done
echo "ok: tests/fixtures are current copies of $shared's reference documents"
