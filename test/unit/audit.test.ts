import { describe, expect, it } from 'vitest';
import { appendAuditCommand, auditLine, MAX_AUDIT_LINE_BYTES, parseAuditLog, readAuditCommand, type AuditEntry } from '../../src/state/audit.js';

const entry: AuditEntry = { ts: '2026-01-01T00:00:00.000Z', user: 'ann@laptop', host: 'vm1', role: 'web', action: 'deploy', version: '1.2.0', result: 'ok', message: 'deployed' };

describe('audit lines', () => {
  it('is one JSON line in a fixed key order', () => {
    expect(auditLine(entry)).toBe('{"ts":"2026-01-01T00:00:00.000Z","user":"ann@laptop","host":"vm1","role":"web","action":"deploy","version":"1.2.0","result":"ok","message":"deployed"}\n');
  });
  it('omits an absent role', () => {
    const { role: _, ...noRole } = entry;
    expect(auditLine(noRole)).not.toContain('role');
  });
  it('escapes newlines so one entry stays one line', () => {
    expect(auditLine({ ...entry, message: 'a\nb' }).trim().split('\n')).toHaveLength(1);
  });
  it.each([5_000, 100_000])('shortens a %i-character message to fit one atomic write', (n) => {
    const line = auditLine({ ...entry, message: 'x'.repeat(n) });
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_AUDIT_LINE_BYTES + 1);
    expect(JSON.parse(line).message).toMatch(/x+…$/);
  });
});

describe('audit commands', () => {
  it('appends with >> and the line on stdin', () => {
    const cmd = appendAuditCommand({ service: 'hello' }, entry);
    expect(cmd.command).toBe('mkdir -p /var/lib/gangway/audit && cat >> /var/lib/gangway/audit/hello.log');
    expect(cmd.stdin).toBe(auditLine(entry));
  });
  it.each([
    [20, 'if [ -f /var/lib/gangway/audit/hello.log ]; then tail -n 20 /var/lib/gangway/audit/hello.log; fi'],
    [0, 'if [ -f /var/lib/gangway/audit/hello.log ]; then cat /var/lib/gangway/audit/hello.log; fi'],
  ])('reads the last %i lines', (n, expected) => {
    expect(readAuditCommand({ service: 'hello' }, n).command).toBe(expected);
  });
});

describe('parseAuditLog', () => {
  it('reads entries back and skips torn or foreign lines', () => {
    const text = `${auditLine(entry)}{"ts":"x"\nnot json\n{"no":"action"}\n${auditLine({ ...entry, version: '1.3.0' })}`;
    expect(parseAuditLog(text).map((e) => e.version)).toEqual(['1.2.0', '1.3.0']);
    expect(parseAuditLog(text)[0]).toEqual(entry);
  });
  it('reads an empty log as no entries', () => {
    expect(parseAuditLog('')).toEqual([]);
  });
});
