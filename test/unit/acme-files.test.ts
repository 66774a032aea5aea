import { describe, expect, it } from 'vitest';
import {
  ACME_LISTS_SEPARATOR, issuanceOf, removeOwnerNamesCommand, needsIssuance, parseAcmeLists, parseStatuses, readStatusesCommand, writeAcmeNamesCommand, writeOwnerNamesCommand,
} from '../../src/proxy/acme-files.js';
import type { AcmeStatus } from '../../src/proxy/acme-container.js';

const ok = (name: string, at: string, notAfter?: string): AcmeStatus => ({ name, result: 'ok', lastAttempt: at, ...(notAfter ? { notAfter } : {}) });
const failed = (name: string, at: string, lastError: string): AcmeStatus => ({ name, result: 'failed', lastAttempt: at, lastError });

describe('ACME files in the proxy directory', () => {
  it('each owner writes its own list, names on stdin; a bad name is refused', () => {
    const c = writeOwnerNamesCommand('shop@staging', ['a.example.com', 'b.example.com'], '/srv/p');
    expect(c.command).toContain('/srv/p/certs/acme-owners/shop@staging.txt');
    expect(c.stdin).toBe('a.example.com\nb.example.com\n');
    expect(() => writeOwnerNamesCommand('shop', ['a.example.com; rm -rf /'])).toThrow(/not a DNS name/);
    expect(writeAcmeNamesCommand(['x.test']).command).toContain('/var/lib/gangway/proxy/certs/acme-names.txt');
    expect(removeOwnerNamesCommand('shop@staging', '/srv/p').command).toBe('rm -f /srv/p/certs/acme-owners/shop@staging.txt');
  });

  it('the container reads the union of every owner, sorted; the current list is told apart', () => {
    const text = `b.test\na.test\n\nc.test\na.test\n${ACME_LISTS_SEPARATOR}\nb.test\n`;
    expect(parseAcmeLists(text)).toEqual({ wanted: ['a.test', 'b.test', 'c.test'], current: ['b.test'] });
    expect(parseAcmeLists(`${ACME_LISTS_SEPARATOR}\n`)).toEqual({ wanted: [], current: [] });
  });

  it('status lines by name; foreign or half-written lines are skipped', () => {
    const text = `${JSON.stringify(ok('a.test', 't1', 'n1'))}\n{"name":"b.te\n${JSON.stringify({ name: 'c.test', result: 'maybe', lastAttempt: 't' })}\n`;
    const got = parseStatuses(text);
    expect([...got.keys()]).toEqual(['a.test']);
    expect(got.get('a.test')?.notAfter).toBe('n1');
    expect(readStatusesCommand(['a.test', 'b.test'], '/p').command).toContain("/p/certs/a.test.status.json /p/certs/b.test.status.json");
  });

  it('issuance: waiting until a newer attempt; ok with a certificate = issued; failed = failed', () => {
    expect(issuanceOf(undefined, undefined)).toBe('waiting');
    expect(issuanceOf(undefined, ok('a', 't1', 'n1'))).toBe('issued');
    expect(issuanceOf(undefined, failed('a', 't1', 'x'))).toBe('failed');
    const old = failed('a', 't1', 'x');
    expect(issuanceOf(old, old)).toBe('waiting');
    expect(issuanceOf(old, ok('a', 't2', 'n2'))).toBe('issued');
    expect(issuanceOf(old, failed('a', 't2', 'y'))).toBe('failed');
    expect(needsIssuance(undefined)).toBe(true);
    expect(needsIssuance(old)).toBe(true);
    expect(needsIssuance(ok('a', 't', 'n'))).toBe(false);
  });
});
