// --tap: TAP version 13, one test point per check, a YAML block with what failed.
import { describeExpectation } from '../evaluate.js';
import type { VerifyReport } from '../verify.js';

/** A TAP description may not contain '#' (directives) or a newline. */
const description = (s: string) => s.replace(/[\r\n]+/g, ' ').replace(/#/g, '\\#');
const yamlString = (s: string) => JSON.stringify(s);

export function tapReport(report: VerifyReport): string {
  const lines = ['TAP version 13', `1..${report.results.length}`];
  report.results.forEach((r, i) => {
    const where = `[${[r.host, r.role].filter(Boolean).join(' ')}]`;
    lines.push(`${r.status === 'pass' ? 'ok' : 'not ok'} ${i + 1} - ${description(`${where} ${r.title}`)}`);
    if (r.status === 'pass') return;
    lines.push('  ---', `  status: ${r.status}`, `  origin: ${yamlString(r.origin)}`);
    if (r.message) lines.push(`  message: ${yamlString(r.message)}`);
    const failed = r.expectations.filter((e) => !e.ok);
    if (failed.length) lines.push('  failed:', ...failed.map((e) => `    - ${yamlString(describeExpectation(e))}`));
    lines.push('  ...');
  });
  return `${lines.join('\n')}\n`;
}
