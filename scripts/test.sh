#!/usr/bin/env bash
# Everything CI runs: setup, unit tests, integration tests (one shared sandbox of 3 hosts,
# torn down at the end unless GANGWAY_KEEP=1). Ends with one line "N passed, N failed".
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh

reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT

run_project() {
  local project=$1
  echo "== $project tests"
  # The json reporter writes the counts we sum; the default one is for people reading the log.
  npx vitest run --project "$project" --reporter=default --reporter=json --outputFile.json="$reports/$project.json" || return 1
}

status=0
echo "== typecheck (src, tests, benchmarks, examples)"
npm run --silent typecheck || status=1
run_project unit || status=1
run_project integration || status=1

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, missing = [];
  for (const name of process.argv.slice(2)) {
    const file = `${process.argv[1]}/${name}.json`;
    if (!fs.existsSync(file)) { missing.push(name); continue; }
    const report = JSON.parse(fs.readFileSync(file, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
  }
  if (missing.length) console.log(`no report from: ${missing.join(", ")} (the run itself failed)`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || missing.length > 0 ? 1 : 0);
' "$reports" unit integration || status=1

exit "$status"
