// verify's JUnit and TAP reports do not travel as events, so they are redacted on their own: a
// check's output (a command's stdout, a file's content) may carry a secret of the config.
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { Events } from '../../src/events/events.js';
import { machineReports } from '../../src/verify/reporters/machine.js';
import type { VerifyReport } from '../../src/verify/verify.js';
import type { CheckResult } from '../../src/checks/types.js';

// "&" and "<" are escaped by the XML renderer: redacting only the rendered text would miss it.
const SECRET = 'pw&<s3cret>';
const PLAIN_SECRET = 'db-pass-4242';

const results: CheckResult[] = [
  { host: 'vm1', role: 'web', origin: 'roles.web[0]', type: 'command', subject: 'cat /etc/app.env', title: `command prints ${PLAIN_SECRET}`, status: 'fail',
    expectations: [{ attribute: 'stdout', expected: 'contains ok', observed: `DB=${SECRET} and ${PLAIN_SECRET}`, ok: false }], message: `stdout was DB=${SECRET}` },
  { host: 'vm1', role: 'web', origin: 'roles.web[1]', type: 'file', subject: '/etc/x', title: 'file /etc/x', status: 'error', expectations: [], message: `could not read: ${PLAIN_SECRET}` },
  { host: 'vm2', origin: 'built-in', type: 'invariant', subject: 'x', title: 'one live version', status: 'pass', expectations: [] },
];
const report: VerifyReport = { hosts: ['vm1', 'vm2'], results, durationMs: 10 };

function bus(): Events {
  const events = new Events();
  events.addSecret(SECRET);
  events.addSecret(PLAIN_SECRET);
  return events;
}

describe('verify --junit / --tap reports are redacted', () => {
  it.each([
    ['--junit FILE', { junit: 'report.xml' }, 'file'],
    ['--junit (stdout)', { junit: true }, 'stdout'],
    ['--tap', { tap: true }, 'stdout'],
  ] as const)('%s', (_name, flags, where) => {
    const out = machineReports(report, flags, bus(), new Date('2026-01-01T00:00:00Z'));
    const text = where === 'file' ? out.file!.text : out.stdout!;
    expect(text).toContain('[redacted]');
    for (const form of [SECRET, PLAIN_SECRET, 'pw&amp;&lt;s3cret&gt;', 's3cret']) expect(text).not.toContain(form);
  });

  it('the JUnit file is still valid XML with the same test counts', () => {
    const out = machineReports(report, { junit: 'r.xml' }, bus(), new Date('2026-01-01T00:00:00Z'));
    expect(out.file!.path).toBe('r.xml');
    expect(out.stdout).toBeUndefined();
    const xml = new XMLParser({ ignoreAttributes: false }).parse(out.file!.text) as { testsuites: { '@_tests': string; '@_failures': string; '@_errors': string } };
    expect(xml.testsuites['@_tests']).toBe('3');
    expect(xml.testsuites['@_failures']).toBe('1');
    expect(xml.testsuites['@_errors']).toBe('1');
  });

  it('no flag, no report; nothing registered, nothing changed', () => {
    expect(machineReports(report, {}, bus())).toEqual({});
    expect(machineReports(report, { tap: true }, new Events()).stdout).toContain(PLAIN_SECRET);
  });
});
