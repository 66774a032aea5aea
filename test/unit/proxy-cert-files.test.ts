// The proxy's certificate files as text and shell lines: the crt-list's default line first, names
// sorted; PEMs only ever on stdin.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { certFilesPresent, certFilesPresentCommand, DEFAULT_CRT_LINE, ensureCertsCommand, parseCrtList, renderCrtList, writeCrtListCommand } from '../../src/proxy/cert-files.js';
import { DEFAULT_CERT_SUBJECT, defaultCertificatePem } from '../../src/proxy/default-cert.js';

describe('crt-list', () => {
  it('starts with the default certificate (no SNI filter), then one sorted line per name', () => {
    expect(renderCrtList(['b.test', 'a.test', 'b.test'])).toBe(
      '/usr/local/etc/haproxy/certs/default.pem\n/usr/local/etc/haproxy/certs/a.test.pem a.test\n/usr/local/etc/haproxy/certs/b.test.pem b.test\n',
    );
    expect(renderCrtList([])).toBe(`${DEFAULT_CRT_LINE}\n`);
  });

  it('reads back the names it serves, not the default', () => {
    expect(parseCrtList(renderCrtList(['x.test', 'a.test']))).toEqual(['a.test', 'x.test']);
    expect(parseCrtList('\n# a comment line\n')).toEqual([]);
  });
});

describe('certificate shell lines', () => {
  it('carry their content on stdin only', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nsecret-bytes\n-----END PRIVATE KEY-----\n';
    for (const c of [ensureCertsCommand(pem, '/d'), writeCrtListCommand(pem, '/d')]) {
      expect(c.stdin).toBe(pem);
      expect(c.command).not.toContain('secret-bytes');
    }
  });

  it('write the default certificate and crt-list once (0640), and keep them after', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gangway-certs-'));
    try {
      const run = (c: { command: string; stdin?: string }) => execFileSync('sh', ['-c', c.command], { input: c.stdin ?? '' });
      run(ensureCertsCommand('first\n', dir));
      expect(await readFile(join(dir, 'certs', 'default.pem'), 'utf8')).toBe('first\n');
      expect((await stat(join(dir, 'certs', 'default.pem'))).mode & 0o777).toBe(0o640);
      run(writeCrtListCommand(renderCrtList(['a.test']), dir));
      run(ensureCertsCommand('second\n', dir));
      expect(await readFile(join(dir, 'certs', 'default.pem'), 'utf8')).toBe('first\n');
      expect(parseCrtList(await readFile(join(dir, 'certs', 'crt-list.txt'), 'utf8'))).toEqual(['a.test']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('whether the certificate files are in place', () => {
  it('says so only when the default certificate and the crt-list both are, among other lines of output', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gangway-certs-'));
    try {
      const ask = () => certFilesPresent(`other line\n${execFileSync('sh', ['-c', certFilesPresentCommand(dir).command]).toString()}more\n`);
      expect(ask()).toBe(false);
      execFileSync('sh', ['-c', ensureCertsCommand('pem\n', dir).command], { input: 'pem\n' });
      expect(ask()).toBe(true);
      await rm(join(dir, 'certs', 'crt-list.txt'));
      expect(ask()).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('default certificate', () => {
  it('is a self-signed certificate then its key, which openssl reads', async () => {
    const pem = await defaultCertificatePem();
    expect(pem.indexOf('BEGIN CERTIFICATE')).toBeLessThan(pem.indexOf('PRIVATE KEY'));
    const subject = execFileSync('openssl', ['x509', '-noout', '-subject'], { input: pem }).toString();
    expect(subject).toContain(DEFAULT_CERT_SUBJECT);
    expect(execFileSync('openssl', ['pkey', '-noout', '-text'], { input: pem }).toString()).toMatch(/P-256|prime256v1/);
  });
});
