// The closing line of scripts/test.sh, from vitest's JSON reports: "N passed, N failed, N skipped".
// A skipped test fails the run unless the script's allow-list names it with a reason: a suite that
// skips itself (skipIf, runIf, a forgotten .skip) would otherwise vanish from a green summary.
//
//   tsx scripts/test-summary.ts <reports dir> <project>...   (reads <dir>/<project>.json)
//   GANGWAY_ALLOWED_SKIPS: the allow-list, one "<test> -- <reason>" a line
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The part of vitest's JSON report (jest's format) read here. */
export interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: Array<{
    /** Absolute path of the test file. */
    name: string;
    status: string;
    assertionResults: Array<{ ancestorTitles: string[]; title: string; status: string }>;
  }>;
}

/** Statuses of a test that did not run: vitest writes skipped (skip, skipIf, runIf), todo, pending. */
const NOT_RUN = new Set(['skipped', 'pending', 'todo', 'disabled']);

export interface AllowedSkip {
  test: string;
  reason: string;
}

/** "<file> > <suite> > <test> -- <reason>" a line; blank lines and # comments are ignored. */
export function parseAllowList(text: string): AllowedSkip[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((line) => {
      const at = line.lastIndexOf(' -- ');
      const reason = at < 0 ? '' : line.slice(at + 4).trim();
      if (!reason) throw new Error(`allowed skip without a reason (write "<test> -- <why it may skip here>"): ${line}`);
      return { test: line.slice(0, at).trim(), reason };
    });
}

/** How a test is named in the summary and the allow-list: its file (from the repo root), suites and title. */
export const testId = (root: string, file: string, t: { ancestorTitles: string[]; title: string }): string =>
  [relative(root, file), ...t.ancestorTitles, t.title].join(' > ');

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  /** Skipped tests the allow-list does not name (each fails the run). */
  unexpectedSkips: string[];
  allowedSkips: Array<{ test: string; reason: string }>;
  /** Allow-list entries no test matched: stale, worth removing. */
  unusedAllowed: string[];
  /** Projects without a report: their run died before writing one. */
  missing: string[];
}

/** Pure: the counts and verdicts of the reports (undefined: the project wrote none). */
export function summarize(reports: Array<{ project: string; report: VitestJsonReport | undefined }>, root: string, allowed: AllowedSkip[]): Summary {
  const s: Summary = { passed: 0, failed: 0, skipped: 0, unexpectedSkips: [], allowedSkips: [], unusedAllowed: [], missing: [] };
  const used = new Set<string>();
  for (const { project, report } of reports) {
    if (!report) {
      s.missing.push(project);
      continue;
    }
    s.passed += report.numPassedTests;
    s.failed += report.numFailedTests;
    const named: string[] = [];
    for (const file of report.testResults) {
      // A file that failed to load fails no test of its own, yet it failed.
      if (file.status === 'failed' && !file.assertionResults.some((t) => t.status === 'failed')) s.failed += 1;
      for (const t of file.assertionResults) if (NOT_RUN.has(t.status)) named.push(testId(root, file.name, t));
    }
    // The totals count what the per-test list might not name (a todo is counted in both).
    const total = Math.max(named.length, report.numPendingTests, report.numTodoTests);
    s.skipped += total;
    for (const id of named) {
      const entry = allowed.find((a) => a.test === id);
      if (entry) {
        used.add(entry.test);
        s.allowedSkips.push(entry);
      } else {
        s.unexpectedSkips.push(id);
      }
    }
    if (total > named.length) s.unexpectedSkips.push(`${project}: ${total - named.length} skipped test(s) the report does not name`);
  }
  s.unusedAllowed = allowed.map((a) => a.test).filter((t) => !used.has(t));
  return s;
}

/** The lines to print, the last one "N passed, N failed, N skipped", and the exit code. */
export function verdict(s: Summary): { lines: string[]; exitCode: number } {
  const lines: string[] = [];
  if (s.missing.length) lines.push(`no report from: ${s.missing.join(', ')} (the run itself failed)`);
  for (const a of s.allowedSkips) lines.push(`skipped, allowed (${a.reason}): ${a.test}`);
  for (const t of s.unexpectedSkips) lines.push(`skipped, not allowed on this machine: ${t}`);
  if (s.unexpectedSkips.length) lines.push('a test this machine can run was skipped: make it run, or add it to ALLOWED_SKIPS in scripts/test.sh with the reason');
  for (const t of s.unusedAllowed) lines.push(`ALLOWED_SKIPS names a test that did not skip: ${t}`);
  lines.push(`${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
  const exitCode = s.failed > 0 || s.missing.length > 0 || s.unexpectedSkips.length > 0 ? 1 : 0;
  return { lines, exitCode };
}

function main(argv: string[], env: NodeJS.ProcessEnv): number {
  const [dir, ...projects] = argv;
  if (!dir || projects.length === 0) {
    console.error('usage: tsx scripts/test-summary.ts <reports dir> <project>...');
    return 2;
  }
  const root = fileURLToPath(new URL('..', import.meta.url));
  const reports = projects.map((project) => {
    const file = join(dir, `${project}.json`);
    return { project, report: existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as VitestJsonReport) : undefined };
  });
  // A broken allow-list fails the run, but the summary line still closes the output.
  let allowed: AllowedSkip[] = [];
  let listError: string | undefined;
  try {
    allowed = parseAllowList(env.GANGWAY_ALLOWED_SKIPS ?? '');
  } catch (err) {
    listError = (err as Error).message;
  }
  const { lines, exitCode } = verdict(summarize(reports, root, allowed));
  if (listError) console.log(`ALLOWED_SKIPS: ${listError}`);
  for (const line of lines) console.log(line);
  return listError ? 1 : exitCode;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2), process.env);
