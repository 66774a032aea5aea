// verify's certificate resource: its spec, its matchers judged on certificates the test makes
// with openssl and serves from a TLS server on 127.0.0.1 (the handshake goes through a LocalHost's
// openTcp, as it goes through an SSH forward on a real host), the certificates-served invariant,
// and how a failing certificate check reads in the human, JUnit and TAP reports.
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createSecureContext, createServer, rootCertificates, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateResource, certificateFactsOf, daysLeft, type CertificateFacts, type CertificateSpec } from '../../src/checks/resources/certificate.js';
import { verifySchema } from '../../src/checks/spec.js';
import type { PlannedCheck } from '../../src/checks/types.js';
import { LocalHost } from '../../src/hosts/local-host.js';
import { observeCertificate, trustedRoots } from '../../src/verify/certificate-probe.js';
import { certificateProblem, judgeCertificates, sslNamesOf } from '../../src/verify/certificate-invariant.js';
import { resultFrom } from '../../src/verify/evaluate.js';
import { humanReport } from '../../src/verify/reporters/human.js';
import { junitReport } from '../../src/verify/reporters/junit.js';
import { tapReport } from '../../src/verify/reporters/tap.js';
import { runHostChecks } from '../../src/verify/run.js';
import { TestCa, type TestCert } from '../fixtures/test-certs.js';

const spec = (raw: Record<string, unknown>): CertificateSpec => verifySchema.parse({ hosts: { h: [raw] } }).hosts.h![0]!.spec as CertificateSpec;
const DAY = 86_400_000;

let ca: TestCa;
let certs: Record<'good' | 'near' | 'other' | 'self', TestCert>;
let server: Server;
let port: number;
let roots: string[];
const host = new LocalHost('vm-test');

beforeAll(async () => {
  ca = new TestCa();
  certs = {
    good: ca.issue('good', ['app.test', 'www.app.test'], 90),
    near: ca.issue('near', ['near.test'], 3),
    other: ca.issue('other', ['other.test'], 90),
    self: ca.selfSigned('self', 'self.test', 90),
  };
  const bySni: Record<string, TestCert> = { 'app.test': certs.good, 'www.app.test': certs.good, 'near.test': certs.near, 'self.test': certs.self };
  server = createServer({ cert: certs.other.cert, key: certs.other.key, SNICallback: (name, cb) => {
    const c = bySni[name];
    cb(null, c ? createSecureContext({ cert: c.cert, key: c.key }) : undefined);
  } });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  roots = (await trustedRoots(ca.certFile))!;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  ca.remove();
});

/** trustTestCa false: node's default roots only. */
const observe = (name: string, trustTestCa = true, now?: Date) =>
  observeCertificate(host, { certificate: name, address: '127.0.0.1', port, timeout: 5000 }, trustTestCa ? roots : undefined, now ? () => now : undefined);

function judge(raw: Record<string, unknown>, facts: CertificateFacts) {
  const s = spec({ ...raw, port: raw.port ?? port });
  const expectations = certificateResource.evaluate(s, { ...facts });
  return { failed: expectations.filter((e) => !e.ok), expectations };
}

describe('certificate spec', () => {
  it('defaults to port 443 at 127.0.0.1, valid: true, 5 s', () => {
    expect(spec({ certificate: 'app.test' })).toMatchObject({ certificate: 'app.test', port: 443, address: '127.0.0.1', valid: true, timeout: 5000 });
  });

  it('rejects a URL for the name and a typo in a key', () => {
    expect(verifySchema.safeParse({ hosts: { h: [{ certificate: 'https://app.test/' }] } }).success).toBe(false);
    const typo = verifySchema.safeParse({ hosts: { h: [{ certificate: 'app.test', min_day_left: 3 }] } });
    expect(typo.success).toBe(false);
    expect(JSON.stringify(typo.error?.issues)).toContain('did you mean `min_days_left`?');
  });

  it('is a certificate check whichever of port and certificate comes first', () => {
    const c = verifySchema.parse({ hosts: { h: [{ port: 8443, certificate: 'app.test' }] } }).hosts.h![0]!;
    expect(c).toMatchObject({ type: 'certificate', subject: 'app.test at 127.0.0.1:8443' });
    expect(verifySchema.parse({ hosts: { h: [{ port: 8443 }] } }).hosts.h![0]!.type).toBe('port');
  });

  it('reads issuer and names as lists', () => {
    expect(spec({ certificate: 'a.test', issuer: 'X', names: 'a.test' })).toMatchObject({ issuer: ['X'], names: ['a.test'] });
  });
});

describe('certificate observed over a host stream', () => {
  it('a good certificate trusted through ca_file passes every matcher and reports what it saw', async () => {
    const facts = await observe('app.test');
    expect(facts).toMatchObject({ connected: true, chainOk: true, nameOk: true, names: ['app.test', 'www.app.test'], issuer: 'O=Gangway Tests, CN=Gangway Test CA' });
    expect(facts.serial).toMatch(/^0*3E9$/i);
    expect(daysLeft(facts)).toBeGreaterThanOrEqual(88);
    const { failed, expectations } = judge({ certificate: 'app.test', min_days_left: 30, issuer: 'Gangway Test CA', issuer_matches: '^O=Gangway', names: ['www.app.test'] }, facts);
    expect(failed).toEqual([]);
    expect(expectations.find((e) => e.attribute === 'certificate')?.observed).toContain('names app.test, www.app.test; issuer O=Gangway Tests, CN=Gangway Test CA');
  });

  it('the same certificate without the test CA fails on the chain, naming the reason', async () => {
    const facts = await observe('app.test', false);
    const { failed } = judge({ certificate: 'app.test' }, facts);
    expect(failed.map((e) => e.attribute)).toEqual(['chain']);
    expect(failed[0]!.observed).toBe('not verified (UNABLE_TO_VERIFY_LEAF_SIGNATURE: its issuer is not a trusted root, or the chain is incomplete)');
  });

  it('a self-signed certificate fails on the chain even with the test CA', async () => {
    const { failed } = judge({ certificate: 'self.test' }, await observe('self.test'));
    expect(failed.map((e) => e.attribute)).toEqual(['chain']);
    expect(failed[0]!.observed).toBe('not verified (DEPTH_ZERO_SELF_SIGNED_CERT: self-signed)');
  });

  it('a name the server has no certificate for gets the default one: the name check fails', async () => {
    const { failed } = judge({ certificate: 'missing.test', names: 'missing.test' }, await observe('missing.test'));
    expect(failed.map((e) => e.attribute)).toEqual(['name', 'names']);
    expect(failed[0]!.observed).toContain("does not match (Hostname/IP does not match certificate's altnames");
    expect(failed[1]!.observed).toBe('not in other.test');
  });

  it('valid: false expects a certificate that is not valid for the name', async () => {
    expect(judge({ certificate: 'missing.test', valid: false }, await observe('missing.test')).failed).toEqual([]);
    expect(judge({ certificate: 'app.test', valid: false }, await observe('app.test')).failed.map((e) => e.attribute)).toEqual(['valid']);
  });

  it('min_days_left fails on a certificate near its end, with the days and the date', async () => {
    const facts = await observe('near.test');
    const { failed } = judge({ certificate: 'near.test', min_days_left: 14 }, facts);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ attribute: 'days left', expected: 'at least 14' });
    expect(failed[0]!.observed).toMatch(/^[23] \(not after \d{4}-/);
    expect(judge({ certificate: 'near.test', min_days_left: 2 }, facts).failed).toEqual([]);
  });

  it('issuer matchers fail on another issuer', async () => {
    const { failed } = judge({ certificate: 'app.test', issuer: "Let's Encrypt", issuer_matches: 'CN=R\\d+$' }, await observe('app.test'));
    expect(failed.map((e) => `${e.attribute} ${e.observed}`)).toEqual(['issuer not found', 'issuer no match in "O=Gangway Tests, CN=Gangway Test CA"']);
  });

  it('a refused port says so', async () => {
    const closed = createNetServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const facts = await observeCertificate(host, { certificate: 'app.test', address: '127.0.0.1', port: freePort, timeout: 2000 }, roots);
    expect(facts.connected).toBe(false);
    expect(facts.error).toContain(`cannot connect to 127.0.0.1:${freePort} from vm-test`);
    expect(facts.error).toContain('ECONNREFUSED');
    const { failed } = judge({ certificate: 'app.test', port: freePort }, facts);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.attribute).toBe('handshake');
  });

  it('a port that speaks no TLS gives the handshake error', async () => {
    const plain = createNetServer((s) => { s.on('error', () => {}); s.end('HTTP/1.0 400 Bad Request\r\n\r\n', () => s.destroy()); });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const facts = await observeCertificate(host, { certificate: 'app.test', address: '127.0.0.1', port: (plain.address() as AddressInfo).port, timeout: 2000 }, roots);
      expect(facts.connected).toBe(false);
      expect(facts.error).toMatch(/^TLS handshake with 127\.0\.0\.1:\d+ failed: wrong version number \(ERR_SSL_WRONG_VERSION_NUMBER\)$/);
    } finally {
      await new Promise((resolve) => plain.close(resolve));
    }
  });

  it('a ca_file that cannot be read is an error of the check, in declaration order among the others', async () => {
    await expect(trustedRoots('/nonexistent/ca.pem')).rejects.toThrow('cannot read ca_file /nonexistent/ca.pem (ENOENT)');
    expect((await trustedRoots(ca.certFile))!.length).toBe(rootCertificates.length + 1);
    const planned = (raw: Record<string, unknown>, i: number): PlannedCheck => {
      const c = verifySchema.parse({ hosts: { h: [raw] } }).hosts.h![0]!;
      return { ...c, origin: `hosts.vm-test[${i}]` };
    };
    const results = await runHostChecks(host, [
      planned({ certificate: 'app.test', port, ca_file: '/nonexistent/ca.pem' }, 0),
      planned({ sysctl: 'kernel.ostype', value: 'Linux' }, 1),
      planned({ certificate: 'app.test', port, ca_file: ca.certFile, min_days_left: 30 }, 2),
    ]);
    expect(results.map((r) => [r.origin, r.type, r.status])).toEqual([['hosts.vm-test[0]', 'certificate', 'error'], ['hosts.vm-test[1]', 'sysctl', 'pass'], ['hosts.vm-test[2]', 'certificate', 'pass']]);
    expect(results[0]!.message).toContain('cannot read ca_file');
  });
});

describe('certificates-served invariant', () => {
  it('passes good certificates and names host, name and what is wrong for the others', async () => {
    const seen = new Map<string, CertificateFacts>([
      ['vm1 app.test', await observe('app.test')],
      ['vm1 near.test', await observe('near.test')],
      ['vm2 app.test', await observe('app.test', false)],
      ['vm2 missing.test', await observe('missing.test')],
    ]);
    const results = judgeCertificates(
      [{ host: 'vm1', names: ['app.test', 'near.test'] }, { host: 'vm2', names: ['app.test', 'missing.test', 'unseen.test'] }, { host: 'vm3', names: [] }],
      (h, n) => seen.get(`${h} ${n}`),
    );
    expect(results.map((r) => [r.host, r.title, r.status, r.origin])).toEqual([['vm1', 'certificates-served', 'fail', 'built-in'], ['vm2', 'certificates-served', 'fail', 'built-in']]);
    const bad = results.flatMap((r) => r.expectations.filter((e) => !e.ok).map((e) => e.observed));
    expect(bad).toHaveLength(4);
    expect(bad[0]).toMatch(/^near\.test on vm1: expires in [23] day\(s\) \(.+\), within 14$/);
    expect(bad[1]).toMatch(/^app\.test on vm2: does not chain to a trusted root \(.+\)$/);
    expect(bad[2]).toMatch(/^missing\.test on vm2: does not match the name \(.+\)$/);
    expect(bad[3]).toBe('unseen.test on vm2: was not observed');
    expect(results[0]!.expectations[0]).toMatchObject({ attribute: 'certificate app.test on vm1', ok: true });
  });

  it('ACME names: a failed or missing last renewal fails the invariant while the certificate still serves well', async () => {
    const good = await observe('app.test');
    const renewals = new Map([['app.test', { result: 'failed' as const, lastAttempt: 't2', lastError: 'lego exited 1: connection refused' }]]);
    const [failed] = judgeCertificates([{ host: 'vm1', names: ['app.test'] }], () => good, (_h, n) => renewals.get(n));
    expect(failed!.status).toBe('fail');
    expect(failed!.expectations.map((e) => [e.attribute, e.ok])).toEqual([['certificate app.test on vm1', true], ['renewal app.test on vm1', false]]);
    expect(failed!.expectations[1]!.observed).toBe('app.test on vm1: last ACME renewal failed (t2): lego exited 1: connection refused');
    const [missing] = judgeCertificates([{ host: 'vm1', names: ['app.test'] }], () => good, () => undefined);
    expect(missing!.expectations[1]!.observed).toMatch(/no ACME attempt recorded/);
    const [ok] = judgeCertificates([{ host: 'vm1', names: ['app.test'] }], () => good, () => ({ result: 'ok', lastAttempt: 't3' }));
    expect(ok!.status).toBe('pass');
  });

  it('an expired certificate and a failed handshake are problems', async () => {
    const later = await observe('app.test', true, new Date(Date.now() + 100 * DAY));
    expect(certificateProblem(later)).toMatch(/^expired \d+ day\(s\) ago/);
    expect(certificateProblem({ connected: false, observedAt: new Date().toISOString(), error: 'connection refused' })).toBe('no certificate (connection refused)');
    expect(certificateProblem(await observe('app.test'))).toBeUndefined();
    expect(certificateProblem(await observe('app.test'), 100)).toMatch(/^expires in \d+ day\(s\)/);
  });

  it('reads ssl names only when proxy.ssl is set, for hosts of proxied roles', () => {
    const roles = [{ name: 'web', hosts: ['vm1'], proxied: true, primary: true, env: {} }, { name: 'jobs', hosts: ['vm2'], proxied: false, primary: false, env: {} }];
    const loaded = (proxy: Record<string, unknown>) => ({ config: { proxy } as never, roles });
    expect(sslNamesOf(loaded({ hosts: ['app.test'] }), 'vm1')).toEqual([]);
    expect(sslNamesOf(loaded({ hosts: ['app.test'], ssl: true }), 'vm1')).toEqual(['app.test']);
    expect(sslNamesOf(loaded({ hosts: ['app.test'], ssl: true }), 'vm2')).toEqual([]);
  });
});

describe('a failing certificate check in the reports', () => {
  it('human, JUnit and TAP carry the host and the reason', async () => {
    const check: PlannedCheck = { ...verifySchema.parse({ hosts: { vm1: [{ certificate: 'near.test', port, min_days_left: 14 }] } }).hosts.vm1![0]!, origin: 'hosts.vm1[0]' };
    const r = resultFrom('vm1', check, certificateResource.evaluate(check.spec as CertificateSpec, { ...(await observe('near.test')) }));
    const report = { hosts: ['vm1'], results: [r], durationMs: 5 };
    expect(r.title).toBe(`certificate near.test at 127.0.0.1:${port}`);
    const human = humanReport(report).map((l) => l.message);
    expect(human[0]).toBe(`FAIL certificate near.test at 127.0.0.1:${port}`);
    expect(human[1]).toMatch(/^ {2}days left: expected at least 14, got [23] \(not after /);
    expect(junitReport(report)).toMatch(/<testsuite name="vm1"[^]*<failure message="days left: expected at least 14, got [23]/);
    expect(tapReport(report)).toMatch(/not ok 1 - \[vm1\] certificate near\.test[^]*days left: expected at least 14/);
  });
});

it('certificateFactsOf drops what is not of its type', () => {
  expect(certificateFactsOf({ connected: true, observedAt: 'x', names: ['a', 3], chainOk: 'yes', issuer: 5 })).toEqual({ connected: true, observedAt: 'x', names: ['a'] });
});
