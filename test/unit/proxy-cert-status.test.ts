import { describe, expect, it } from 'vitest';
import { parseCertSummary } from '../../src/proxy/cert-commands.js';
import { describeNameCertificate } from '../../src/proxy/cert-status.js';

const REPLY = `Filename: /usr/local/etc/haproxy/certs/a.test.pem
Status: Used
Serial: 0A1B
notBefore: Dec  1 09:00:00 2026 GMT
notAfter: Mar  1 09:00:00 2027 GMT
Subject Alternative Name: DNS:a.test
SHA1 FingerPrint: 00AA
Subject: /CN=a.test
Issuer: /CN=Pebble Intermediate CA 0af3c1
`;

describe('certificate status of a name', () => {
  it('reads issuer and end date from show ssl cert', () => {
    expect(parseCertSummary(REPLY)).toEqual({ issuer: '/CN=Pebble Intermediate CA 0af3c1', notAfter: '2027-03-01T09:00:00.000Z' });
    expect(parseCertSummary('Filename: x\n')).toEqual({});
  });

  it('says issuer, days left and the last renewal; a failure with its error', () => {
    const now = new Date('2026-12-30T09:00:00Z');
    const served = { name: 'a.test', issuer: '/CN=R', notAfter: '2027-03-01T09:00:00.000Z' };
    expect(describeNameCertificate(served, now)).toBe('a.test: issuer /CN=R, 61 days left');
    expect(describeNameCertificate({ ...served, renewal: { result: 'ok', lastAttempt: 't1' } }, now)).toBe('a.test: issuer /CN=R, 61 days left, last renewal ok (t1)');
    expect(describeNameCertificate({ ...served, renewal: { result: 'failed', lastAttempt: 't2', lastError: 'lego exited 1: connection refused' } }, now))
      .toBe('a.test: issuer /CN=R, 61 days left, last renewal FAILED (t2): lego exited 1: connection refused');
    expect(describeNameCertificate({ name: 'b.test' }, now)).toBe('b.test: no certificate served');
    expect(describeNameCertificate({ ...served, notAfter: '2026-12-28T09:00:00Z' }, now)).toBe('a.test: issuer /CN=R, expired 2 day(s) ago');
  });
});
