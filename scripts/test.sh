#!/usr/bin/env bash
# Everything CI runs: setup, typecheck, the layer rules (dependency-cruiser), unit tests, the
# packed-tarball test, integration tests (one shared sandbox of 3 hosts, torn down at the end
# unless GANGWAY_KEEP=1), then the proxy's integration files again on HAProxy 3.0 in the same run. Ends with one line "N passed, N failed, N skipped".
set -euo pipefail

# Tests that may skip on this machine, one a line: "<file> > <suite> > <test> -- <why>", named as
# the summary prints them. Every skipIf/runIf in the suites has its condition met once
# scripts/setup.sh ran (HAProxy installed, the shared sandbox up), so the list is empty and any
# skip fails the run: a suite that skips itself must not vanish from a green summary.
ALLOWED_SKIPS=''

cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh

reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT

# run_project <report name> <project>...: several projects in one vitest run share its global
# setup's sandbox (integration + integration-haproxy-3.0).
run_project() {
  local report=$1
  shift
  local flags=()
  for project in "$@"; do flags+=(--project "$project"); done
  echo "== $* tests"
  # The json reporter writes the counts we sum; the default one is for people reading the log.
  npx vitest run "${flags[@]}" --reporter=default --reporter=json --outputFile.json="$reports/$report.json" || return 1
}

status=0
echo "== typecheck (src, tests, benchmarks, examples)"
npm run --silent typecheck || status=1
# Each rule of .dependency-cruiser.cjs counts as one test in the summary (scripts/layers-report.ts).
echo "== layer rules (npm run lint:layers)"
npm run --silent lint:layers -- --output-type json > "$reports/cruise.json" || status=1
npx tsx scripts/layers-report.ts "$reports/cruise.json" "$reports/layers.json" || status=1
run_project unit unit || status=1
run_project package package || status=1
# The proxy files a second time on HAProxy 3.0 (vitest.config.ts), on the same sandbox.
run_project integration integration integration-haproxy-3.0 || status=1

# Passed, failed and skipped from the JSON reports (scripts/test-summary.ts); its last line is the summary.
GANGWAY_ALLOWED_SKIPS="$ALLOWED_SKIPS" npx tsx scripts/test-summary.ts "$reports" layers unit package integration || status=1

exit "$status"
