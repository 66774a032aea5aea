// scripts/test.sh's closing line: passed, failed and skipped from vitest's JSON reports, and a
// skip that the allow-list does not name fails the run. The counts are checked on a real vitest
// run of a fixture with every kind of skip, so a change in vitest's report format shows here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllowList, summarize, verdict, type VitestJsonReport } from '../../scripts/test-summary.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = 'test/fixtures/test-summary/kinds.fixture.ts';
let dir: string;
let real: VitestJsonReport;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gangway-test-summary-'));
  const out = join(dir, 'fixture.json');
  spawnSync(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--root', root, '--config', 'test/fixtures/test-summary/vitest.config.ts', '--reporter=json', `--outputFile.json=${out}`], {
    cwd: root,
    stdio: 'ignore',
    timeout: 120_000,
  });
  real = JSON.parse(readFileSync(out, 'utf8')) as VitestJsonReport;
}, 150_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const SKIPPED = [
  `${FIXTURE} > kinds > is skipped`,
  `${FIXTURE} > kinds > skips itself`,
  `${FIXTURE} > kinds > runs only if`,
  `${FIXTURE} > kinds > is todo`,
  `${FIXTURE} > a suite that skips itself > inside`,
];

describe('on a real vitest report', () => {
  it('counts passed, failed and every kind of skip (skip, skipIf, runIf, todo, a skipped suite)', () => {
    const s = summarize([{ project: 'fixture', report: real }], root, []);
    expect([s.passed, s.failed, s.skipped]).toEqual([1, 1, 5]);
    expect(s.unexpectedSkips.sort()).toEqual([...SKIPPED].sort());
  });

  it('ends with "N passed, N failed, N skipped" and fails on the failure and on the skips', () => {
    const { lines, exitCode } = verdict(summarize([{ project: 'fixture', report: real }], root, []));
    expect(lines[lines.length - 1]).toBe('1 passed, 1 failed, 5 skipped');
    expect(lines).toContain(`skipped, not allowed on this machine: ${FIXTURE} > kinds > skips itself`);
    expect(exitCode).toBe(1);
  });
});

/** A report of one file whose tests have these statuses. */
function report(statuses: Record<string, string>, totals: Partial<VitestJsonReport> = {}): VitestJsonReport {
  const tests = Object.entries(statuses).map(([title, status]) => ({ ancestorTitles: ['s'], title, status }));
  return {
    numPassedTests: tests.filter((t) => t.status === 'passed').length,
    numFailedTests: tests.filter((t) => t.status === 'failed').length,
    numPendingTests: tests.filter((t) => t.status === 'skipped' || t.status === 'pending').length,
    numTodoTests: tests.filter((t) => t.status === 'todo').length,
    testResults: [{ name: join(root, 'test/unit/a.test.ts'), status: tests.some((t) => t.status === 'failed') ? 'failed' : 'passed', assertionResults: tests }],
    ...totals,
  };
}

describe('summarize and verdict', () => {
  it('all ran and passed: exit 0', () => {
    const { lines, exitCode } = verdict(summarize([{ project: 'unit', report: report({ a: 'passed', b: 'passed' }) }], root, []));
    expect(lines).toEqual(['2 passed, 0 failed, 0 skipped']);
    expect(exitCode).toBe(0);
  });

  it('a skip named in the allow-list with its reason passes, and is said', () => {
    const allowed = parseAllowList('# why each may skip\ntest/unit/a.test.ts > s > b -- needs a GPU, which CI machines do not have\n');
    const { lines, exitCode } = verdict(summarize([{ project: 'unit', report: report({ a: 'passed', b: 'skipped' }) }], root, allowed));
    expect(lines).toEqual(['skipped, allowed (needs a GPU, which CI machines do not have): test/unit/a.test.ts > s > b', '1 passed, 0 failed, 1 skipped']);
    expect(exitCode).toBe(0);
  });

  it('an allow-list entry without a reason is refused', () => {
    expect(() => parseAllowList('test/unit/a.test.ts > s > b\n')).toThrow(/without a reason/);
    expect(() => parseAllowList('test/unit/a.test.ts > s > b -- \n')).toThrow(/without a reason/);
  });

  it('skips the report counts but does not name still fail the run', () => {
    const s = summarize([{ project: 'unit', report: report({ a: 'passed' }, { numPendingTests: 2 }) }], root, []);
    expect(s.skipped).toBe(2);
    expect(verdict(s).exitCode).toBe(1);
  });

  it('a file that failed to load counts as a failure', () => {
    const broken = report({});
    broken.testResults[0]!.status = 'failed';
    const { lines, exitCode } = verdict(summarize([{ project: 'unit', report: broken }], root, []));
    expect(lines[lines.length - 1]).toBe('0 passed, 1 failed, 0 skipped');
    expect(exitCode).toBe(1);
  });

  it('a project without a report fails the run and is named', () => {
    const { lines, exitCode } = verdict(summarize([{ project: 'unit', report: report({ a: 'passed' }) }, { project: 'integration', report: undefined }], root, []));
    expect(lines).toEqual(['no report from: integration (the run itself failed)', '1 passed, 0 failed, 0 skipped']);
    expect(exitCode).toBe(1);
  });
});
