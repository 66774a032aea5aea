// Runtime-API lines and parsers for certificates, against replies measured on HAProxy 2.6.12.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  addCrtListEntry, certificateStep, combinedPem, commitCertFileCommand, leafFingerprint, parseCertFingerprint, parseCertList, parseContainerUser,
  parseCrtListEntries, removeCertFileCommand, setCert,
} from '../../src/proxy/cert-commands.js';
import { defaultCertificatePem } from '../../src/proxy/default-cert.js';

describe('certificate payloads', () => {
  it('join chain and key without the blank lines that would end a payload', () => {
    expect(combinedPem('A\n\nB\r\n', '\nK1\n\nK2\n')).toBe('A\nB\nK1\nK2\n');
  });

  it('set ssl cert carries the PEM as payload, never in the line', () => {
    const c = setCert('a.test', 'PEMDATA\n');
    expect(c.line).toBe('set ssl cert /usr/local/etc/haproxy/certs/a.test.pem');
    expect(c.payload).toBe('PEMDATA\n');
    expect(addCrtListEntry('a.test').payload).toBe('/usr/local/etc/haproxy/certs/a.test.pem a.test\n');
  });

  it('a written file becomes current by a rename; removal takes a pending one too', () => {
    expect(commitCertFileCommand('a.test', '/d').command).toBe('mv -f /d/certs/.a.test.pem.tmp /d/certs/a.test.pem');
    expect(removeCertFileCommand('a.test', '/d').command).toBe('rm -f /d/certs/a.test.pem /d/certs/.a.test.pem.tmp');
    expect(parseContainerUser('80080:999')).toEqual({ uid: 80080, gid: 999 });
    expect(parseContainerUser('haproxy')).toBeUndefined();
  });
});

describe('fingerprints', () => {
  it('the leaf fingerprint is what openssl (and show ssl cert) gives', async () => {
    const pem = await defaultCertificatePem();
    const fromOpenssl = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha1'], { input: pem }).toString().split('=')[1]!.trim().replaceAll(':', '');
    expect(leafFingerprint(pem, 'X')).toBe(fromOpenssl);
  });

  it('a secret that is not a certificate is named, its value never shown', () => {
    expect(() => leafFingerprint('not-a-pem-value-xyz', 'WEB_CERT')).toThrow(/^secret WEB_CERT does not hold a PEM certificate$/);
  });
});

describe('replies (HAProxy 2.6.12)', () => {
  it('show ssl cert, show ssl cert <path>, show ssl crt-list', () => {
    expect(parseCertList('# filename\n/x/certs/a.test.pem\n/x/certs/default.pem\n\n')).toEqual(['/x/certs/a.test.pem', '/x/certs/default.pem']);
    expect(parseCertFingerprint('Filename: /x/a.pem\nStatus: Used\nSerial: 72\nSHA1 FingerPrint: a7516225DAEE\nSubject: /CN=a\n')).toBe('A7516225DAEE');
    expect(parseCertFingerprint('Filename: /x/a.pem\n')).toBeUndefined();
    expect(parseCrtListEntries('# /x/crt-list.txt\n/x/default.pem\n/x/a.test.pem a.test\n\n')).toEqual(['/x/default.pem', '/x/a.test.pem']);
  });
});

describe('what a name needs on the running proxy', () => {
  const fp = 'AB12';
  it('a name the proxy has not loaded is added, whatever the file says', () => {
    expect(certificateStep({ loaded: false, fileMatches: true, fingerprint: fp })).toBe('add');
    expect(certificateStep({ loaded: false, fileMatches: false, fingerprint: fp })).toBe('add');
  });

  it('the same leaf with a different file (a chain-only change) is sent again', () => {
    expect(certificateStep({ loaded: true, fileMatches: false, servedFingerprint: fp, fingerprint: fp })).toBe('renew');
  });

  it('another leaf is sent even when the file matches (something else set it)', () => {
    expect(certificateStep({ loaded: true, fileMatches: true, servedFingerprint: 'CD34', fingerprint: fp })).toBe('renew');
    expect(certificateStep({ loaded: true, fileMatches: true, fingerprint: fp })).toBe('renew');
  });

  it('nothing is sent only when leaf and whole file are ours', () => {
    expect(certificateStep({ loaded: true, fileMatches: true, servedFingerprint: fp, fingerprint: fp })).toBe('none');
  });
});
