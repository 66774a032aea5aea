// The layer rules' part of scripts/test.sh's summary: dependency-cruiser's JSON result (from
// `npm run lint:layers -- --output-type json`) becomes a report in vitest's JSON shape, one test
// per rule of .dependency-cruiser.cjs, failed when the rule has a violation. Prints the verdicts.
//
//   tsx scripts/layers-report.ts <depcruise result.json> <report.json to write>
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { VitestJsonReport } from './test-summary.js';

/** The part of dependency-cruiser's JSON result read here. */
export interface CruiseResult {
  summary: {
    violations: Array<{ rule: { name: string }; from: string; to: string; cycle?: Array<{ name: string }> }>;
    ruleSetUsed: { forbidden?: Array<{ name: string }> };
  };
}

/** Pure: one test per rule (file: the config), and one human line per violation. */
export function layersReport(result: CruiseResult, configFile: string): { report: VitestJsonReport; lines: string[] } {
  const rules = (result.summary.ruleSetUsed.forbidden ?? []).map((r) => r.name);
  const lines: string[] = [];
  const assertionResults = rules.map((rule) => {
    const found = result.summary.violations.filter((v) => v.rule.name === rule);
    for (const v of found) lines.push(`${rule}: ${v.cycle?.length ? [v.from, ...v.cycle.map((c) => c.name)].join(' -> ') : `${v.from} -> ${v.to}`}`);
    lines.push(`${found.length === 0 ? 'ok' : 'FAILED'}  layer rule ${rule}${found.length ? ` (${found.length} violation${found.length > 1 ? 's' : ''})` : ''}`);
    return { ancestorTitles: ['layer rules'], title: rule, status: found.length === 0 ? 'passed' : 'failed' };
  });
  const failed = assertionResults.filter((t) => t.status === 'failed').length;
  const report: VitestJsonReport = {
    numPassedTests: assertionResults.length - failed,
    numFailedTests: failed,
    numPendingTests: 0,
    numTodoTests: 0,
    testResults: [{ name: configFile, status: failed ? 'failed' : 'passed', assertionResults }],
  };
  return { report, lines };
}

function main(argv: string[]): number {
  const [input, output] = argv;
  if (!input || !output) {
    console.error('usage: tsx scripts/layers-report.ts <depcruise result.json> <report.json>');
    return 2;
  }
  const configFile = fileURLToPath(new URL('../.dependency-cruiser.cjs', import.meta.url));
  const { report, lines } = layersReport(JSON.parse(readFileSync(input, 'utf8')) as CruiseResult, configFile);
  writeFileSync(output, JSON.stringify(report));
  for (const line of lines) console.log(line);
  return report.numFailedTests > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
