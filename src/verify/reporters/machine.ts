// What `verify --junit [FILE]` and `--tap` write, built from a redacted copy of the report. These
// reports do not travel as events, so the bus cannot redact them on the way out: a check's
// output (a command's stdout, a file's content) may hold a secret of the config.
import type { VerifyReport } from '../verify.js';
import { junitReport } from './junit.js';
import { tapReport } from './tap.js';

export interface MachineReportFlags {
  /** true: JUnit XML on stdout; a string: to that file. */
  junit?: string | boolean;
  tap?: boolean;
}

/** What redacts: Events is one. */
export interface ReportRedactor {
  redact(text: string): string;
  redactValue<T>(value: T): T;
}

export interface MachineReports {
  /** JUnit XML for --junit FILE (the path as given). */
  file?: { path: string; text: string };
  /** The one report stdout gets (JUnit for a bare --junit, else TAP), alone there. */
  stdout?: string;
}

/** Pure: the texts to write. The data is redacted before rendering, the text once more after. */
export function machineReports(report: VerifyReport, flags: MachineReportFlags, redactor: ReportRedactor, timestamp = new Date()): MachineReports {
  if (flags.junit === undefined && !flags.tap) return {};
  const shown = redactor.redactValue(report);
  const junit = () => redactor.redact(junitReport(shown, timestamp));
  const out: MachineReports = {};
  if (typeof flags.junit === 'string') out.file = { path: flags.junit, text: junit() };
  if (flags.junit === true) out.stdout = junit();
  else if (flags.tap) out.stdout = redactor.redact(tapReport(shown));
  return out;
}
