// Issue 15, part 1: HTTPS on the shared proxy with the service's own certificate. A test CA and
// leaf certificates made with the openssl CLI (test/fixtures/test-certs.ts); a service with two names on vm1+vm2; every
// look is from outside gangway: a Node TLS client that trusts only the test CA, plain HTTP with a
// Host header, and docker exec into the host containers.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestCa } from '../fixtures/test-certs.js';
import { gangway, onHost, pushHello, resetHosts, writeProject } from './helpers/deploy.js';
import { testProxyImage } from './helpers/proxy-line.js';
import { httpsGet as httpsGetVia, underHttpsLoad, type Leaf } from './helpers/tls.js';

const info = inject('sandbox');
const WEB = ['vm1', 'vm2'];
const NAMES = ['tls-a.test', 'tls-b.test'];
const CERTS = '/var/lib/gangway/proxy/certs';
let testCa: TestCa;
let project: string;
/** The test CA's certificate: the only root the clients here trust. */
let ca: string;
const leaves: Leaf[] = [];

const port = (host: string, kind: 'httpPort' | 'httpsPort') => {
  const p = info.hosts.find((h) => h.name === host)![kind];
  if (!p) throw new Error(`${host} publishes no ${kind} (a sandbox from before 443 was published)`);
  return p;
};

/**
 * Two issues of one intermediate CA (same name, same key, new serial: a re-issued intermediate)
 * and a leaf for NAMES under it: the chains leaf+first and leaf+second differ in the chain only.
 */
function makeReissuedChain(): { leaf: { cert: string; key: string }; intermediates: [string, string] } {
  const f = (name: string) => join(testCa.dir, name);
  writeFileSync(f('int.ext'), 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n');
  execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('int.key'), '-out', f('int.csr'), '-subj', '/CN=gangway test intermediate'], { stdio: 'ignore' });
  const issue = (out: string) => execFileSync('openssl', ['x509', '-req', '-in', f('int.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(out), '-days', '2', '-extfile', f('int.ext')], { stdio: 'ignore' });
  issue('int1.pem');
  issue('int2.pem');
  writeFileSync(f('ext'), `subjectAltName=${NAMES.map((n) => `DNS:${n}`).join(',')}\n`);
  execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('leaf-int.key'), '-out', f('leaf-int.csr'), '-subj', `/CN=${NAMES[0]}`], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', f('leaf-int.csr'), '-CA', f('int1.pem'), '-CAkey', f('int.key'), '-CAcreateserial', '-out', f('leaf-int.pem'), '-days', '2', '-extfile', f('ext')], { stdio: 'ignore' });
  return { leaf: { cert: readFileSync(f('leaf-int.pem'), 'utf8'), key: readFileSync(f('leaf-int.key'), 'utf8') }, intermediates: [readFileSync(f('int1.pem'), 'utf8'), readFileSync(f('int2.pem'), 'utf8')] };
}

/** The fingerprints of the leaf and of the certificate after it in the chain the proxy sends for `name`. */
function servedChain(host: string, name: string): Promise<{ leaf: string; intermediate?: string }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: port(host, 'httpsPort'), servername: name, ca, timeout: 5000 }, () => {
      const peer = s.getPeerCertificate(true);
      s.end();
      const next = peer.issuerCertificate && peer.issuerCertificate.fingerprint !== peer.fingerprint ? peer.issuerCertificate.fingerprint : undefined;
      resolve({ leaf: peer.fingerprint, ...(next ? { intermediate: next } : {}) });
    });
    s.on('error', reject);
  });
}

const secretsEnv = (leaf: { cert: string; key: string }) => ({ TLS_CERT: leaf.cert, TLS_KEY: leaf.key });
const keyBody = (key: string) => key.split('\n').filter((l) => l && !l.startsWith('-----')).join('');

/** One HTTPS GET with SNI and Host `name`, trusting only the test CA. */
const httpsGet = (host: string, name: string, path = '/') => httpsGetVia(info, host, name, { ca, path });

function httpGet(host: string, name: string, path: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port: port(host, 'httpPort'), path, headers: { Host: name }, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}) }));
    });
    req.on('error', () => resolve({ status: 0 }));
    req.end();
  });
}

/** The ALPN protocol the proxy picks when offered h2 and http/1.1. */
function alpn(host: string, name: string): Promise<string | false> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: port(host, 'httpsPort'), servername: name, ca, ALPNProtocols: ['h2', 'http/1.1'], timeout: 5000 }, () => {
      const p = s.alpnProtocol;
      s.end();
      resolve(p ?? false);
    });
    s.on('error', reject);
  });
}

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint;

describe('HTTPS with own certificates (proxy.ssl: { certificate_pem, private_key_pem })', () => {
  beforeAll(async () => {
    testCa = new TestCa();
    ca = readFileSync(testCa.certFile, 'utf8');
    // Two leaves for NAMES, each with its own key: the second replaces the first by a redeploy.
    leaves.push(testCa.issue('leaf1', NAMES, 2), testCa.issue('leaf2', NAMES, 2));
    await resetHosts(info);
    await pushHello(info, 'tls-it/web', '1.0.0');
    await pushHello(info, 'tls-it/web', '2.0.0');
    const [vm1, vm2] = info.hosts;
    project = writeProject(info, {
      service: 'tlsweb',
      repo: 'tls-it/web',
      extra: {
        servers: { web: { hosts: [vm1!.name, vm2!.name] } },
        proxy: { app_port: 80, image: testProxyImage(info), healthcheck: { path: '/up', interval: '500ms', timeout: '2s' }, hosts: NAMES, ssl: { certificate_pem: 'TLS_CERT', private_key_pem: 'TLS_KEY' } },
      },
    });
  }, 300_000);

  afterAll(async () => {
    await resetHosts(info);
    testCa.remove();
  });

  it('serves each name with its certificate on both hosts (SNI, only the test CA trusted), h2 by ALPN', async () => {
    const r = await gangway(['setup', '--version', '1.0.0'], { cwd: project, env: secretsEnv(leaves[0]!), timeoutMs: 180_000 });
    expect(r.code, r.output).toBe(0);
    expect(r.output).not.toContain(keyBody(leaves[0]!.key).slice(0, 40));
    for (const host of WEB) {
      for (const name of NAMES) {
        const got = await httpsGet(host, name);
        expect(got, `${host} ${name}`).toMatchObject({ status: 200, body: 'hello from 1.0.0', fingerprint: fingerprintOf(leaves[0]!.cert) });
        expect(await alpn(host, name)).toBe('h2');
      }
      // No certificate for this name: the proxy's self-signed default, which the client refuses.
      const wrong = await httpsGet(host, 'other.test');
      expect(wrong.status).toBe(0);
      expect(wrong.error).toMatch(/self.signed|unable to verify|altnames|certificate/i);
    }
  });

  it('plain HTTP gets a 308 to https, except the ACME challenge path; the app sees X-Forwarded-Proto', async () => {
    for (const host of WEB) {
      expect(await httpGet(host, 'tls-a.test', '/x?y=1')).toEqual({ status: 308, location: 'https://tls-a.test/x?y=1' });
      const challenge = await httpGet(host, 'tls-b.test', '/.well-known/acme-challenge/token1');
      // No ACME container runs here: the acme backend has no server, so 503, and no redirect.
      expect(challenge.status).toBe(503);
      expect((await httpsGet(host, 'tls-a.test', '/cgi-bin/forwarded')).body).toBe('https');
    }
  });

  it('certificate files are the proxy uid\'s, 0600, listed in crt-list; the key is in no label or argv', async () => {
    for (const host of WEB) {
      const stat = await onHost(info, host, `stat -c '%a %u %n' ${CERTS}/tls-a.test.pem ${CERTS}/tls-b.test.pem`);
      expect(stat.trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['600 80080', '600 80080']);
      const list = await onHost(info, host, `cat ${CERTS}/crt-list.txt`);
      expect(list.trim().split('\n')).toEqual([
        '/usr/local/etc/haproxy/certs/default.pem',
        ...NAMES.map((n) => `/usr/local/etc/haproxy/certs/${n}.pem ${n}`),
      ]);
      const inspected = await onHost(info, host, 'docker inspect $(docker ps -aq)');
      expect(inspected).not.toContain(keyBody(leaves[0]!.key).slice(0, 40));
    }
  });

  it('a new certificate installed by a redeploy under HTTPS load: 0 failed requests, the new one served after', async () => {
    const load = { info, hosts: WEB, names: NAMES, ca, accept: (r: { body: string }) => r.body.startsWith('hello from') };
    const { result, requests, failures } = await underHttpsLoad(load, 120_000, () => gangway(['deploy', '--version', '2.0.0'], { cwd: project, env: secretsEnv(leaves[1]!), timeoutMs: 120_000 }));
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toContain(keyBody(leaves[1]!.key).slice(0, 40));
    console.info(`https load during the redeploy: ${requests} requests, ${failures.length} failed`);
    expect(requests).toBeGreaterThan(50);
    expect(failures).toEqual([]);
    for (const host of WEB) {
      for (const name of NAMES) {
        expect(await httpsGet(host, name), `${host} ${name}`).toMatchObject({ status: 200, body: 'hello from 2.0.0', fingerprint: fingerprintOf(leaves[1]!.cert) });
      }
    }
  });

  it('a restart of the proxy keeps the certificates (from the files)', async () => {
    await onHost(info, 'vm1', 'docker restart gangway-proxy >/dev/null');
    let got = await httpsGet('vm1', 'tls-b.test');
    for (let i = 0; i < 40 && got.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 250));
      got = await httpsGet('vm1', 'tls-b.test');
    }
    expect(got).toMatchObject({ status: 200, fingerprint: fingerprintOf(leaves[1]!.cert) });
  });

  it('a service without TLS deploying to the same hosts keeps the HTTPS listener (no recreate) and gets no redirect', async () => {
    await pushHello(info, 'tls-it/plain', '1.0.0');
    const [vm1, vm2] = info.hosts;
    const plain = writeProject(info, {
      service: 'plain',
      repo: 'tls-it/plain',
      extra: {
        servers: { web: { hosts: [vm1!.name, vm2!.name] } },
        proxy: { app_port: 80, image: testProxyImage(info), healthcheck: { path: '/up', interval: '500ms', timeout: '2s' }, hosts: ['plain.test'] },
      },
    });
    const before = await Promise.all(WEB.map((h) => onHost(info, h, 'docker inspect -f {{.Id}} gangway-proxy')));
    const r = await gangway(['deploy', '--version', '1.0.0'], { cwd: plain, timeoutMs: 120_000 });
    expect(r.code, r.output).toBe(0);
    expect(await Promise.all(WEB.map((h) => onHost(info, h, 'docker inspect -f {{.Id}} gangway-proxy')))).toEqual(before);
    for (const host of WEB) {
      expect(await httpsGet(host, 'tls-a.test')).toMatchObject({ status: 200, fingerprint: fingerprintOf(leaves[1]!.cert) });
      expect(await httpGet(host, 'plain.test', '/')).toEqual({ status: 200 });
    }
  });

  it('a chain-only change (same leaf and key, a re-issued intermediate) reaches the running proxy and the file', async () => {
    const { leaf, intermediates } = makeReissuedChain();
    expect(fingerprintOf(intermediates[0])).not.toBe(fingerprintOf(intermediates[1]));
    const deployWith = async (version: string, intermediate: string) => {
      const r = await gangway(['deploy', '--version', version], { cwd: project, env: { TLS_CERT: `${leaf.cert}${intermediate}`, TLS_KEY: leaf.key }, timeoutMs: 120_000 });
      expect(r.code, r.output).toBe(0);
    };
    await deployWith('1.0.0', intermediates[0]);
    for (const host of WEB) for (const name of NAMES) expect(await servedChain(host, name)).toEqual({ leaf: fingerprintOf(leaf.cert), intermediate: fingerprintOf(intermediates[0]) });
    await deployWith('2.0.0', intermediates[1]);
    // A whole base64 line of its signature (the part a new serial changes).
    const secondBody = intermediates[1].split('\n').filter((l) => l && !l.startsWith('-----')).at(-2)!;
    for (const host of WEB) {
      for (const name of NAMES) expect(await servedChain(host, name), `${host} ${name}`).toEqual({ leaf: fingerprintOf(leaf.cert), intermediate: fingerprintOf(intermediates[1]) });
      // The file too, so a restart keeps the new chain.
      expect(await onHost(info, host, `grep -c -F -- '${secondBody}' ${CERTS}/tls-a.test.pem ${CERTS}/tls-b.test.pem`)).toMatch(/:1\n.*:1/s);
    }
  });

  it('gangway remove takes the certificates off', async () => {
    const r = await gangway(['remove', '--yes'], { cwd: project, env: secretsEnv(leaves[1]!), timeoutMs: 120_000 });
    expect(r.code, r.output).toBe(0);
    for (const host of WEB) {
      expect((await onHost(info, host, `ls ${CERTS}`)).trim().split('\n').sort()).toEqual(['crt-list.txt', 'default.pem']);
      expect((await httpsGet(host, 'tls-a.test')).status).toBe(0);
    }
  });

  it('ssl: true with an ACME image the host cannot pull fails at the prepare step, saying how to make one', async () => {
    const [vm1] = info.hosts;
    const acmeless = writeProject(info, {
      service: 'acmeless',
      repo: 'tls-it/web',
      extra: {
        servers: { web: { hosts: [vm1!.name] } },
        proxy: { app_port: 80, image: testProxyImage(info), healthcheck: { path: '/up', interval: '500ms', timeout: '2s' }, hosts: ['acmeless.test'], ssl: true, acme: { image: `${info.registry.name}/tls-it/no-such-acme:1` } },
      },
    });
    const r = await gangway(['deploy', '--version', '1.0.0'], { cwd: acmeless, timeoutMs: 120_000 });
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain('the ACME image registry:5000/tls-it/no-such-acme:1 is not on vm1 and cannot be pulled');
    expect(r.output).toMatch(/examples\/acme-image[\s\S]*proxy\.acme\.image/);
    expect(await onHost(info, 'vm1', 'docker ps -aq --filter name=acmeless')).toBe('');
  });
});
