// Human report: grouped by host (config order), failures and errors first, every failed
// expectation on its own line. Returns lines; the command sends them through the Events bus.
import type { EventLevel } from '../../events/events.js';
import { formatMs } from '../../events/format.js';
import { describeExpectation } from '../evaluate.js';
import type { CheckResult } from '../../checks/types.js';
import { summarize, type VerifyReport } from '../verify.js';

export interface ReportLine {
  message: string;
  level: EventLevel;
  host?: string;
  role?: string;
}

const RANK = { error: 0, fail: 1, pass: 2 } as const;
const WORD = { error: 'ERROR', fail: 'FAIL', pass: 'ok' } as const;

export function humanReport(report: VerifyReport, opts: { passed?: boolean } = {}): ReportLine[] {
  const showPassed = opts.passed ?? true;
  const lines: ReportLine[] = [];
  for (const host of report.hosts) {
    const mine = report.results.filter((r) => r.host === host).map((r, i) => ({ r, i }));
    mine.sort((a, b) => RANK[a.r.status] - RANK[b.r.status] || a.i - b.i);
    for (const { r } of mine) {
      if (r.status === 'pass' && !showPassed) continue;
      const where = { host, ...(r.role !== undefined ? { role: r.role } : {}) };
      lines.push({ message: `${WORD[r.status]} ${r.title}${r.status === 'error' ? `: ${r.message}` : ''}`, level: r.status === 'pass' ? 'info' : 'error', ...where });
      for (const e of failedExpectations(r)) lines.push({ message: `  ${describeExpectation(e)}`, level: 'error', ...where });
    }
  }
  lines.push({ message: summaryLine(report), level: summarize(report).checks === summarize(report).passed ? 'info' : 'error' });
  return lines;
}

const failedExpectations = (r: CheckResult) => r.expectations.filter((e) => !e.ok);

export function summaryLine(report: VerifyReport): string {
  const s = summarize(report);
  const parts = [`${s.passed} passed`, ...(s.failed ? [`${s.failed} failed`] : []), ...(s.errors ? [`${s.errors} error${s.errors === 1 ? '' : 's'}`] : [])];
  return `verify: ${s.checks} checks on ${s.hosts} host${s.hosts === 1 ? '' : 's'}: ${parts.join(', ')} (${formatMs(report.durationMs)})`;
}
