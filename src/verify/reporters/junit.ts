// --junit: one <testsuite> per host, one <testcase> per check; a failed check is a <failure>,
// a check that could not be evaluated an <error>.
import type { CheckResult } from '../../checks/types.js';
import { describeExpectation } from '../evaluate.js';
import type { VerifyReport } from '../verify.js';

/** XML 1.0 text: escapes markup and drops the control characters XML cannot carry at all. */
function xmlEscape(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/[\uD800-\uDFFF]/g, (c, i: number, s: string) => {
      const code = c.charCodeAt(0);
      const pair = code < 0xdc00 ? s.charCodeAt(i + 1) : s.charCodeAt(i - 1);
      return (code < 0xdc00 ? pair >= 0xdc00 && pair <= 0xdfff : pair >= 0xd800 && pair < 0xdc00) ? c : '';
    })
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function testcase(r: CheckResult): string {
  const classname = xmlEscape(`${r.host}.${r.role ?? (r.origin === 'built-in' ? 'built-in' : 'host')}`);
  const open = `    <testcase classname="${classname}" name="${xmlEscape(r.title)}">`;
  if (r.status === 'pass') return `    <testcase classname="${classname}" name="${xmlEscape(r.title)}"/>`;
  const detail = r.expectations.filter((e) => !e.ok).map(describeExpectation).join('\n') || r.message || '';
  const tag = r.status === 'fail' ? 'failure' : 'error';
  return `${open}\n      <${tag} message="${xmlEscape(r.message ?? tag)}" type="${r.type}">${xmlEscape(detail)}</${tag}>\n    </testcase>`;
}

export function junitReport(report: VerifyReport, timestamp = new Date()): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const all = report.results;
  const failures = all.filter((r) => r.status === 'fail').length;
  const errors = all.filter((r) => r.status === 'error').length;
  lines.push(`<testsuites name="gangway verify" tests="${all.length}" failures="${failures}" errors="${errors}" time="${seconds(report.durationMs)}">`);
  for (const host of report.hosts) {
    const mine = all.filter((r) => r.host === host);
    const f = mine.filter((r) => r.status === 'fail').length;
    const e = mine.filter((r) => r.status === 'error').length;
    lines.push(`  <testsuite name="${xmlEscape(host)}" tests="${mine.length}" failures="${f}" errors="${e}" skipped="0" timestamp="${timestamp.toISOString().slice(0, 19)}" time="${seconds(report.durationMs)}">`);
    for (const r of mine) lines.push(testcase(r));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
