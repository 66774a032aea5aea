// ACME wired into gangway (proxy.ssl: true): a real Pebble and challtestsrv on the sandbox
// network, A records for two names pointing at vm1; `gangway deploy` starts gangway-acme on vm1,
// waits for both certificates and serves them by SNI to a client that trusts only Pebble's root.
// A role with ACME on two hosts is refused (exit 2) before anything is touched.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { CheckResult } from '../../src/checks/types.js';
import { Events } from '../../src/events/events.js';
import { networkAddress } from '../../src/sandbox/containers.js';
import { acmeCaIssuingRoot, ensureAcmeImage, pushToSandboxRegistry, setAcmeDnsRecord, startAcmeCa, stopAcmeCa, type AcmeCa } from '../../src/sandbox/index.js';
import { gangway, onHost, pushHello, resetHosts, writeProject } from './helpers/deploy.js';
import { testProxyImage } from './helpers/proxy-line.js';

const info = inject('sandbox');
const RUN = randomBytes(3).toString('hex');
const NAMES = [`a-${RUN}.deploy.test`, `b-${RUN}.deploy.test`];
const docker = new Docker();

let ca: AcmeCa | undefined;
let root = '';
let vm1Address = '';
let dir = '';
let project = '';
let acmeImage = '';

/** A project whose web role runs on `hosts`, with ACME from Pebble (proxy and acme keys overridable). */
function acmeProject(service: string, hosts: string[], proxy: Record<string, unknown> = {}, acme: Record<string, unknown> = {}): string {
  return writeProject(info, { service, repo: 'acme-it/web', extra: { servers: { web: { hosts } }, proxy: proxyConfig(proxy, acme) } });
}

function proxyConfig(extra: Record<string, unknown> = {}, acme: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    app_port: 80,
    image: testProxyImage(info),
    healthcheck: { path: '/up', interval: '500ms', timeout: '2s' },
    hosts: NAMES,
    ssl: true,
    acme: {
      directory: ca!.directoryUrl,
      email: 'ops@deploy.test',
      image: acmeImage,
      // Pebble's listener (the directory's HTTPS) and the root it issues under: one bundle.
      ca_file: join(dir, 'pebble-roots.pem'),
      extra_hosts: [`pebble:${ca!.pebbleAddress}`],
      issue_timeout: '150s',
      ...acme,
    },
    ...extra,
  };
}

/** One fresh TLS handshake to vm1:443 with SNI `name`, trusting only Pebble's root. */
function served(name: string): Promise<{ authorized: boolean; altNames: string; error?: string }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: vm1Address, port: 443, servername: name, ca: root, rejectUnauthorized: false, timeout: 5000 }, () => {
      const cert = socket.getPeerCertificate();
      resolve({ authorized: socket.authorized, altNames: cert.subjectaltname ?? '', ...(socket.authorizationError ? { error: String(socket.authorizationError) } : {}) });
      socket.end();
    });
    socket.on('timeout', () => socket.destroy(new Error('timeout')));
    socket.on('error', reject);
  });
}

/** GET / over HTTPS from vm1 with SNI and Host `name`, trusting only Pebble's root. */
function httpsBody(name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: vm1Address, port: 443, servername: name, headers: { host: name }, path: '/', ca: root, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; });
      res.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function verifyResults(stdout: string): CheckResult[] {
  return stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind?: string; data?: CheckResult }).filter((e) => e.kind === 'verify').map((e) => e.data!);
}

const removeAcmeVolume = () => Promise.all(info.hosts.map((h) => onHost(info, h.name, 'docker rm -f gangway-acme >/dev/null 2>&1; docker volume rm gangway-acme >/dev/null 2>&1; true')));

describe('ACME certificates through gangway deploy (Pebble)', () => {
  beforeAll(async () => {
    const events = new Events();
    dir = mkdtempSync(join(tmpdir(), 'gangway-acme-deploy-'));
    await resetHosts(info);
    await removeAcmeVolume();
    const vm1 = info.hosts[0]!;
    vm1Address = networkAddress(await docker.getContainer(vm1.containerId).inspect(), info.network)!;
    ca = await startAcmeCa(docker, { id: info.id }, events);
    for (const name of NAMES) await setAcmeDnsRecord(ca, name, vm1Address);
    root = await acmeCaIssuingRoot(ca);
    writeFileSync(join(dir, 'pebble-roots.pem'), `${ca.listenerCertPem.trim()}\n${root.trim()}\n`);
    acmeImage = await pushToSandboxRegistry(docker, await ensureAcmeImage(docker, events), info.registry.localPort, events);
    await pushHello(info, 'acme-it/web', '1.0.0');
    await pushHello(info, 'acme-it/web', '2.0.0');
    project = acmeProject('acmeweb', [vm1.name]);
  }, 300_000);

  afterAll(async () => {
    if (project) await gangway(['remove', '--yes'], { cwd: project, timeoutMs: 120_000 }).catch(() => undefined);
    await resetHosts(info);
    await removeAcmeVolume();
    if (ca) await stopAcmeCa(docker, ca).catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  it('deploy issues a certificate for both names and serves each by SNI, trusted through Pebble\'s root only', async () => {
    const r = await gangway(['deploy', '--version', '1.0.0'], { cwd: project, timeoutMs: 240_000 });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/ACME container created; issued/);
    for (const name of NAMES) {
      const tls = await served(name);
      expect(tls, name).toMatchObject({ authorized: true });
      expect(tls.altNames).toContain(`DNS:${name}`);
    }
    const list = await onHost(info, info.hosts[0]!.name, 'cat /var/lib/gangway/proxy/certs/acme-names.txt');
    expect(list.trim().split('\n')).toEqual([...NAMES].sort());
    // A second deploy asks for nothing: the container and its list stay as they are.
    const again = await gangway(['deploy', '--version', '1.0.0'], { cwd: project, timeoutMs: 240_000 });
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('ACME container unchanged');
    expect(again.output).not.toMatch(/issued a-/);
  }, 300_000);

  it('a name the CA refuses fails the deploy with the CA\'s answer, before the switch: the old version keeps serving', async () => {
    const refused = `c-${RUN}.deploy.test`; // no A record: Pebble cannot reach it
    const withThird = acmeProject('acmeweb', [info.hosts[0]!.name], { hosts: [...NAMES, refused] });
    try {
      const r = await gangway(['deploy', '--version', '2.0.0'], { cwd: withThird, timeoutMs: 240_000 });
      expect(r.code, r.output).toBe(1);
      expect(r.output).toContain(`the ACME CA did not issue a certificate for ${refused}`);
      expect(r.output).toMatch(/urn:ietf:params:acme:error/);
      for (const name of NAMES) expect(await httpsBody(name), name).toBe('hello from 1.0.0');
    } finally {
      rmSync(withThird, { recursive: true, force: true });
    }
  }, 300_000);

  it('verify passes the certificates-served invariant; status shows issuer, days left and the last renewal of both names', async () => {
    const v = await gangway(['verify', '--json'], { cwd: project, timeoutMs: 120_000 });
    expect(v.code, v.output).toBe(0);
    const certs = verifyResults(v.stdout).filter((r) => r.title === 'certificates-served');
    expect(certs.map((r) => [r.host, r.status])).toEqual([[info.hosts[0]!.name, 'pass']]);
    expect(certs[0]!.expectations.map((e) => e.attribute).sort()).toEqual(NAMES.flatMap((n) => [`certificate ${n} on ${info.hosts[0]!.name}`, `renewal ${n} on ${info.hosts[0]!.name}`]).sort());
    const st = await gangway(['status'], { cwd: project, timeoutMs: 60_000 });
    expect(st.code, st.output).toBe(0);
    for (const name of NAMES) expect(st.output).toMatch(new RegExp(`certificate ${name.replace(/\./g, '\\.')}: issuer .*Pebble.*, \\d+ days left, last renewal ok`));
  }, 200_000);

  it('a failed renewal (Pebble stopped, renewal forced) shows in status and verify while the old certificate serves', async () => {
    await stopAcmeCa(docker, ca!);
    // A huge renew_days makes every name due: a new container (its options changed) renews at start.
    const forced = acmeProject('acmeweb', [info.hosts[0]!.name], {}, { renew_days: 100000 });
    try {
      const r = await gangway(['deploy', '--version', '1.0.0'], { cwd: forced, timeoutMs: 240_000 });
      expect(r.code, r.output).toBe(0);
      expect(r.output).toContain('ACME container recreated');
      const deadline = Date.now() + 180_000;
      let statuses = '';
      while (Date.now() < deadline) {
        statuses = await onHost(info, info.hosts[0]!.name, `cat ${NAMES.map((n) => `/var/lib/gangway/proxy/certs/${n}.status.json`).join(' ')}`);
        if ((statuses.match(/"result":"failed"/g) ?? []).length === NAMES.length) break;
        await new Promise((res) => setTimeout(res, 2000));
      }
      expect((statuses.match(/"result":"failed"/g) ?? []).length, statuses).toBe(NAMES.length);
      for (const name of NAMES) expect(await served(name), name).toMatchObject({ authorized: true });
      const st = await gangway(['status'], { cwd: forced, timeoutMs: 60_000 });
      for (const name of NAMES) expect(st.output).toMatch(new RegExp(`certificate ${name.replace(/\./g, '\\.')}: issuer .*, \\d+ days left, last renewal FAILED \\(.*\\): lego exited`));
      const v = await gangway(['verify', '--json'], { cwd: forced, timeoutMs: 120_000 });
      expect(v.code, v.output).not.toBe(0);
      const [certs] = verifyResults(v.stdout).filter((x) => x.title === 'certificates-served');
      expect(certs!.status).toBe('fail');
      const bad = certs!.expectations.filter((e) => !e.ok).map((e) => e.attribute).sort();
      expect(bad).toEqual(NAMES.map((n) => `renewal ${n} on ${info.hosts[0]!.name}`).sort());
    } finally {
      rmSync(forced, { recursive: true, force: true });
    }
  }, 400_000);

  it('gangway remove takes the names off the list and, as the last ACME owner, removes the container', async () => {
    const r = await gangway(['remove', '--yes'], { cwd: project, timeoutMs: 120_000 });
    expect(r.code, r.output).toBe(0);
    const vm1 = info.hosts[0]!.name;
    expect((await onHost(info, vm1, 'cat /var/lib/gangway/proxy/certs/acme-names.txt')).trim()).toBe('');
    expect((await onHost(info, vm1, 'ls /var/lib/gangway/proxy/certs/acme-owners/')).trim()).toBe('');
    expect((await onHost(info, vm1, 'docker ps -aq --filter name=^gangway-acme$')).trim()).toBe('');
  }, 150_000);

  it('a role with ACME on two hosts: exit 2 with the own-certificate hint, nothing touched', async () => {
    const [vm1, vm2] = info.hosts;
    const two = acmeProject('acmetwo', [vm1!.name, vm2!.name]);
    try {
      const before = await onHost(info, vm2!.name, 'docker ps -aq | sort; ls /var/lib/gangway 2>/dev/null');
      const r = await gangway(['deploy', '--version', '1.0.0'], { cwd: two, timeoutMs: 60_000 });
      expect(r.code, r.output).toBe(2);
      expect(r.output).toMatch(/proxy\.ssl: ACME certificates \(ssl: true\) need the service's names on one host, but it is proxied on 2/);
      expect(r.output).toMatch(/certificate_pem/);
      expect(await onHost(info, vm2!.name, 'docker ps -aq | sort; ls /var/lib/gangway 2>/dev/null')).toBe(before);
    } finally {
      rmSync(two, { recursive: true, force: true });
    }
  });

  it('an unreadable proxy.acme.ca_file: exit 2 naming the key, before any host is reached', async () => {
    const vm1 = info.hosts[0]!;
    const bad = acmeProject('acmebadca', [vm1.name], {}, { ca_file: 'missing-roots.pem' });
    try {
      const before = await onHost(info, vm1.name, 'docker ps -aq | sort; ls -R /var/lib/gangway 2>/dev/null');
      const r = await gangway(['deploy', '--version', '1.0.0'], { cwd: bad, timeoutMs: 60_000 });
      expect(r.code, r.output).toBe(2);
      expect(r.output).toMatch(/proxy\.acme\.ca_file: cannot read .*missing-roots\.pem/);
      expect(await onHost(info, vm1.name, 'docker ps -aq | sort; ls -R /var/lib/gangway 2>/dev/null')).toBe(before);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
