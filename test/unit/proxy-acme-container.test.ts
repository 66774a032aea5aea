import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACME_CONTAINER_NAME, ACME_DATA_DIR, acmeContainerSpec, acmeNamesText, acmeScript, isAcmeName, LETS_ENCRYPT_DIRECTORY, RETRY_DELAY_FUNCTION, RETRY_FIRST_SECONDS, RETRY_SECONDS } from '../../src/proxy/acme-container.js';
import { PROXY_CONTAINER_DIR, PROXY_HOST_DIR } from '../../src/proxy/paths.js';

const base = { image: 'gangway/acme:x', network: 'gangway', proxyUid: 80080, proxyGid: 999 };
const envOf = (spec: ReturnType<typeof acmeContainerSpec>) => Object.fromEntries((spec.Env ?? []).map((e) => e.split(/=(.*)/s).slice(0, 2) as [string, string]));

describe('the renewal container', () => {
  it('defaults to Let\'s Encrypt, 30 days, every 12 hours, on the app network beside the proxy', () => {
    const spec = acmeContainerSpec(base);
    expect(spec.name).toBe(ACME_CONTAINER_NAME);
    expect(envOf(spec)).toMatchObject({ ACME_DIRECTORY: LETS_ENCRYPT_DIRECTORY, ACME_RENEW_DAYS: '30', ACME_EVERY_SECONDS: '43200', PROXY_OWNER: '80080:999' });
    expect(envOf(spec)).not.toHaveProperty('LEGO_CA_CERTIFICATES');
    expect(spec.HostConfig?.NetworkMode).toBe('gangway');
    expect(spec.HostConfig?.Binds).toEqual([`${PROXY_HOST_DIR}:${PROXY_CONTAINER_DIR}`]);
    expect(spec.HostConfig?.Mounts).toEqual([{ Type: 'volume', Source: 'gangway-acme', Target: ACME_DATA_DIR }]);
    expect(spec.HostConfig?.CapDrop).toEqual(['ALL']);
    expect(spec.HostConfig?.RestartPolicy?.Name).toBe('always');
  });

  it('takes the directory, email, D, N and a CA bundle from its options', () => {
    const env = envOf(acmeContainerSpec({ ...base, directory: 'https://pebble:14000/dir', email: 'ops@example.test', renewDays: 100000, everyHours: 0.5, caCertificatesFile: '/x/ca.pem' }));
    expect(env).toMatchObject({ ACME_DIRECTORY: 'https://pebble:14000/dir', ACME_EMAIL: 'ops@example.test', ACME_RENEW_DAYS: '100000', ACME_EVERY_SECONDS: '1800', LEGO_CA_CERTIFICATES: '/x/ca.pem' });
  });

  it('refuses a bad D, N or a reserved label', () => {
    expect(() => acmeContainerSpec({ ...base, renewDays: 0 })).toThrow(/renew days/);
    expect(() => acmeContainerSpec({ ...base, everyHours: 0 })).toThrow(/interval/);
    expect(() => acmeContainerSpec({ ...base, labels: { 'gangway.managed': 'x' } })).toThrow(/reserved/);
  });

  it('holds no key material in its environment, labels or command line', () => {
    const spec = acmeContainerSpec({ ...base, email: 'ops@example.test' });
    const visible = JSON.stringify({ env: spec.Env, labels: spec.Labels, entrypoint: spec.Entrypoint, cmd: spec.Cmd });
    expect(visible).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
    // lego gets no key argument: it makes and reads its keys in its data directory.
    expect(acmeScript()).not.toMatch(/--key\b|--csr\b/);
  });

  it('pushes a new name with new/set/commit + add ssl crt-list, and a renewal with set/commit only', () => {
    const script = acmeScript();
    for (const command of ['new ssl cert', 'set ssl cert %s <<', 'commit ssl cert', 'add ssl crt-list %s <<', 'abort ssl cert']) expect(script).toContain(command);
    expect(script).toMatch(/lego_ renew --days "\$ACME_RENEW_DAYS"/);
    expect(script).toMatch(/lego_ run/);
  });

  it('tries a failed pass again after 2 minutes, then doubles the wait up to the hour: at most 5 passes in the first hour of failures', () => {
    const shells = ['sh', ...(existsSync('/bin/busybox') ? ['/bin/busybox sh'] : [])];
    for (const shell of shells) {
      const [cmd, ...pre] = shell.split(' ');
      const delays = [1, 2, 3, 4, 5, 6, 7, 20].map((n) => Number(execFileSync(cmd!, [...pre, '-c', `${RETRY_DELAY_FUNCTION}\nretry_delay ${n}`], { encoding: 'utf8' }).trim()));
      expect(delays, shell).toEqual([RETRY_FIRST_SECONDS, 240, 480, 960, 1920, RETRY_SECONDS, RETRY_SECONDS, RETRY_SECONDS]);
      const passStarts = delays.reduce<number[]>((at, d) => [...at, at[at.length - 1]! + d], [0]);
      expect(passStarts.filter((t) => t < 3600)).toHaveLength(5);
    }
    expect(acmeScript()).toContain(RETRY_DELAY_FUNCTION);
  });

  it.skipIf(!existsSync('/bin/busybox'))('is valid busybox sh', () => {
    expect(() => execFileSync('/bin/busybox', ['sh', '-n', '-c', acmeScript()])).not.toThrow();
  });
});

describe('the names list', () => {
  it('is one DNS name a line, each once', () => {
    expect(acmeNamesText(['a.example.com', 'b.example.com', 'a.example.com'])).toBe('a.example.com\nb.example.com\n');
  });

  it.each(['', 'UPPER.example.com', 'a b.example.com', '../x', 'x', '*.example.com', 'a.example.com\nb.example.com'])('refuses %j', (name) => {
    expect(isAcmeName(name)).toBe(false);
    expect(() => acmeNamesText([name])).toThrow(/not a DNS name/);
  });
});
