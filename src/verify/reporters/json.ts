// --json: one `result` event per check (kind verify), then one summary event, through the
// Events bus (its NDJSON renderer writes them; secrets are scrubbed on the way).
import type { Events } from '../../events/events.js';
import { summarize, type VerifyReport } from '../verify.js';

export function emitResults(events: Events, report: VerifyReport): void {
  for (const r of report.results) events.result('verify', { ...r }, { host: r.host, ...(r.role !== undefined ? { role: r.role } : {}) });
  events.result('verify-summary', { ...summarize(report), durationMs: report.durationMs });
}
