// gangway verify on the shared 3-host sandbox after a real deploy of hello: every resource type
// passing and failing, the built-in invariants catching a hand-broken proxy route, stray
// containers and (with a second service on the same proxies) a slot serving another service's
// container, one exec per host, and the JUnit/TAP outputs.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { expandPath } from '../../src/config/resolve.js';
import { HostPool, sshConnectOptions } from '../../src/hosts/pool.js';
import { runtimeApi } from '../../src/proxy/target.js';
import { requireBackend } from '../../src/proxy/live-servers.js';
import { setServerState } from '../../src/proxy/runtime-commands.js';
import { verifyHosts, verifySpecFromConfig, type CheckResult } from '../../src/verify/index.js';
import { gangway, onHost, pushHello, resetHosts, writeProject } from './helpers/deploy.js';
import { testProxyImage } from './helpers/proxy-line.js';

const info = inject('sandbox');
const REPO = 'verify-it/hello';
const IMAGE = `${info.registry.name}/${REPO}`;
const CONF = 'listen 80\nname "verify"\n';
let project: string;

const run = (args: string[], timeoutMs = 120_000) => gangway(args, { cwd: project, timeoutMs });

/** A runtime API line sent from outside gangway: socat on the host's admin socket. */
const askProxy = (host: string, line: string) => onHost(info, host, `echo '${line}' | socat - UNIX-CONNECT:/var/lib/gangway/proxy/admin.sock`);

/** The passing checks: one or more per resource type, true of the hosts after the deploy. */
const passing = {
  roles: {
    web: [
      { file: '/etc/verify-it.conf', mode: '0640', owner: 'root', group: 'root', contains: 'listen 80', matches: '^name "[a-z]+"$', sha256: createHash('sha256').update(CONF).digest('hex') },
      { directory: '/srv/verify-it', mode: '0750', owner: 'root' },
      { package: 'openssh-server' },
      { process: 'sshd' },
      { service: 'ssh', enabled: true },
      { port: 80 },
      { command: "docker ps --format '{{.Names}}'", stdout: 'hello-web-2.0.0' },
      { user: 'root', uid: 0, home: '/root', groups: ['root'] },
      { group: 'root', gid: 0 },
      { http: 'http://127.0.0.1/', status: 200, body: 'hello from 2.0.0' },
      { container: 'hello-web-2.0.0', running: true, version: '2.0.0', health: 'healthy', max_restarts: 0, labels: { 'gangway.role': 'web' } },
      { image: `${IMAGE}:2.0.0`, labels: { 'org.opencontainers.image.version': '2.0.0' } },
      { mount: '/var/lib/docker' },
      { sysctl: 'kernel.ostype', value: 'Linux' },
    ],
  },
  hosts: { vm3: [{ process: 'dockerd' }, { port: 22, proto: 'tcp' }] },
};

/** The same resource types, each asked something false. */
const failing = {
  roles: {
    web: [
      { file: '/etc/verify-it.conf', mode: '0644', contains: 'listen 81' },
      { directory: '/srv/no-such-dir' },
      { package: 'openssh-server', version: '0.0.0-nope' },
      { process: 'no-such-daemon' },
      { service: 'no-such-service', enabled: true },
      { port: 81 },
      { command: 'echo out; echo err >&2; exit 3', exit_code: 0, stderr: 'nothing' },
      { user: 'nobody', uid: 0 },
      { group: 'no-such-group' },
      { http: 'http://127.0.0.1/', body: 'hello from 9.9.9' },
      { container: 'hello-web-1.0.0', running: true },
      { image: `${IMAGE}:9.9.9` },
      { mount: '/var/lib/docker', fstype: 'nfs' },
      { sysctl: 'kernel.ostype', value: 'Plan9' },
    ],
  },
};

const TYPES = ['file', 'directory', 'package', 'process', 'service', 'port', 'command', 'user', 'group', 'http', 'container', 'image', 'mount', 'sysctl'];

function resultsOf(stdout: string): CheckResult[] {
  return stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; kind?: string; data?: CheckResult }).filter((e) => e.kind === 'verify').map((e) => e.data!);
}

let passed: CheckResult[];
let failed: CheckResult[];

describe('gangway verify on a deployed sandbox', () => {
  beforeAll(async () => {
    await resetHosts(info);
    await pushHello(info, REPO, '1.0.0');
    await pushHello(info, REPO, '2.0.0');
    project = writeProject(info, { repo: REPO, extra: { verify: passing } });
    writeFileSync(join(project, 'failing.yml'), stringify(failing));
    for (const host of ['vm1', 'vm2']) {
      await onHost(info, host, `printf '${CONF.replace(/\n/g, '\\n')}' > /etc/verify-it.conf && chmod 640 /etc/verify-it.conf && mkdir -p /srv/verify-it && chmod 750 /srv/verify-it`);
    }
    for (const args of [['setup', '--version', '1.0.0'], ['deploy', '--version', '2.0.0']]) {
      const r = await run(args, 180_000);
      expect(r.code, r.output).toBe(0);
    }
    const ok = await run(['verify', '--json']);
    expect(ok.code, ok.output).toBe(0);
    passed = resultsOf(ok.stdout);
    const bad = await run(['verify', '--json', '--file', 'failing.yml']);
    expect(bad.code, bad.output).toBe(1);
    failed = resultsOf(bad.stdout);
  }, 600_000);

  afterAll(async () => {
    await Promise.all(['vm1', 'vm2', 'vm3'].map((h) => onHost(info, h, 'docker rm -f verify-stray verify-intruder >/dev/null 2>&1; rm -rf /etc/verify-it.conf /srv/verify-it; true')));
    await resetHosts(info);
  });

  it.each(TYPES)('%s: passes when it holds, on every host of the role', (type) => {
    const mine = passed.filter((r) => r.type === type && r.origin.startsWith('roles.'));
    expect(mine.map((r) => r.host).sort()).toEqual(['vm1', 'vm2']);
    expect(mine.filter((r) => r.status !== 'pass').map((r) => `${r.host} ${r.title}: ${r.message}`)).toEqual([]);
  });

  it.each(TYPES)('%s: fails when it does not, naming what was expected and found', (type) => {
    const mine = failed.filter((r) => r.type === type);
    expect(mine).toHaveLength(2);
    for (const r of mine) {
      expect(r.status, JSON.stringify(r)).toBe('fail');
      expect(r.message).toMatch(/expected .*, got /);
    }
  });

  it('reports failures with their observed values', () => {
    const msg = (type: string) => failed.find((r) => r.type === type && r.host === 'vm1')!.message;
    expect(msg('file')).toBe('mode: expected 0644, got 0640');
    expect(msg('command')).toBe('exit code: expected 0, got 3');
    expect(msg('user')).toBe('uid: expected 0, got "65534"');
    expect(msg('container')).toMatch(/^running: expected running, got exited/);
    // The sandbox hosts run no systemd: the init.d script answers (sshd's `status` reads its pid file).
    expect(msg('service')).toBe('running: expected running, got not running (init.d: no /etc/init.d script)');
  });

  it('host checks run only on their host, and the built-in invariants pass after a deploy', () => {
    expect(passed.filter((r) => r.origin.startsWith('hosts.')).map((r) => `${r.host} ${r.status}`)).toEqual(['vm3 pass', 'vm3 pass']);
    const builtIn = passed.filter((r) => r.origin === 'built-in').map((r) => `${r.host} ${r.title}`);
    expect(builtIn).toContain('vm1 proxy-route (web)');
    expect(builtIn).toContain('vm3 one-live-version (workers)');
    expect(builtIn).toContain('vm2 secret env files in /var/lib/gangway/env are 0600');
  });

  it('runs every declared check of a host in ONE exec, hosts in parallel', async () => {
    const loaded = await loadConfig({ file: 'gangway.yml', cwd: project, env: { ...process.env, HELLO_SECRET: 'x-secret' } });
    const pool = new HostPool(loaded.hostTargets, sshConnectOptions(loaded.config.ssh, (p) => expandPath(p, loaded.baseDir)));
    try {
      const { spec } = await verifySpecFromConfig(loaded, project);
      const report = await verifyHosts({ loaded, spec, host: (n) => pool.get(n) });
      expect(report.results.every((r) => r.status === 'pass')).toBe(true);
      expect([...pool.stats().entries()].map(([h, s]) => [h, s.execChannels, s.connections])).toEqual([['vm1', 1, 1], ['vm2', 1, 1], ['vm3', 1, 1]]);
    } finally {
      await pool.closeAll();
    }
  });

  it('a proxy route broken by hand (live server set to maint) fails the proxy-route invariant', async () => {
    const loaded = await loadConfig({ file: 'gangway.yml', cwd: project, env: { ...process.env, HELLO_SECRET: 'x-secret' } });
    const pool = new HostPool(loaded.hostTargets, sshConnectOptions(loaded.config.ssh, (p) => expandPath(p, loaded.baseDir)));
    const target = { host: await pool.get('vm1'), service: 'hello', appPort: 80, healthcheck: { path: '/up', intervalMs: 500, timeoutMs: 2000 } };
    const api = runtimeApi(target);
    // The backend hello holds on vm1's shared proxy (a slot), as gangway itself finds it.
    const backend = await requireBackend(target);
    try {
      await api.run(setServerState(backend, 'hello-web-2.0.0', 'maint'));
      const r = await run(['verify']);
      expect(r.code, r.output).toBe(1);
      expect(r.output).toContain('[vm1 web] FAIL proxy-route (web)');
      expect(r.output).toContain('ready servers: expected at least one, got none (nothing is routed)');
      expect(r.output).not.toMatch(/\[vm2 web\] FAIL/);
    } finally {
      await api.run(setServerState(backend, 'hello-web-2.0.0', 'ready'));
      await pool.closeAll();
    }
    expect((await run(['verify'])).code).toBe(0);
  });

  it('a stray labelled container of an unknown version, and an unlabelled one on the app network, are caught', async () => {
    await onHost(info, 'vm2', [
      `docker run -d --name verify-stray --label gangway.service=hello --label gangway.managed=app --label gangway.role=web --label gangway.version=0.0.9 ${IMAGE}:2.0.0 sleep 300`,
      `docker run -d --name verify-intruder --network gangway --label verify-it=1 ${IMAGE}:2.0.0 sleep 300`,
    ].join(' && '));
    try {
      const r = await run(['verify']);
      expect(r.code, r.output).toBe(1);
      expect(r.output).toContain('[vm2] FAIL unknown-containers');
      expect(r.output).toContain('verify-stray (version 0.0.9, live is 2.0.0)');
      expect(r.output).toContain('verify-intruder (no gangway labels, on network gangway)');
      expect(r.output).toContain('[vm2 web] FAIL one-live-version (web)');
      expect(r.output).not.toContain('[vm1] FAIL');
    } finally {
      await onHost(info, 'vm2', 'docker rm -f verify-stray verify-intruder >/dev/null');
    }
  });

  it('--junit writes XML that parses, with every failure counted', async () => {
    const r = await run(['verify', '--file', 'failing.yml', '--junit', 'report.xml']);
    expect(r.code).toBe(1);
    const xml = readFileSync(join(project, 'report.xml'), 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as { testsuites: { failures: string; testsuite: Array<{ name: string }> } };
    expect(Number(doc.testsuites.failures)).toBe(28);
    expect(doc.testsuites.testsuite.map((s) => s.name)).toEqual(['vm1', 'vm2', 'vm3']);
    const stdout = await run(['verify', '--junit']);
    expect(stdout.code).toBe(0);
    expect(XMLValidator.validate(stdout.stdout)).toBe(true);
  });

  it('--tap prints a TAP stream', async () => {
    const r = await run(['verify', '--file', 'failing.yml', '--tap']);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('TAP version 13');
    expect(lines).toContain('not ok 1 - [vm1 web] file /etc/verify-it.conf');
  });

  it('a bad verify file exits 2 naming file:line:col, and touches nothing', async () => {
    writeFileSync(join(project, 'bad.yml'), 'roles:\n  web:\n    - port: 80\n      listning: true\n');
    const r = await run(['verify', '--file', 'bad.yml']);
    expect(r.code).toBe(2);
    expect(r.output).toContain('bad.yml:4:17 roles.web[0].listning: unknown key `listning` for a port check — did you mean `listening`?');
  });

  it("a second service on the same proxies: verify passes, then a server of another service's container in hello's slot fails proxy-routes-owned", async () => {
    // other: web on vm1+vm2 beside hello, answering other.test on the same shared proxies.
    await pushHello(info, 'verify-it/other', '1.0.0');
    const [vm1, vm2] = info.hosts;
    const proxy = { app_port: 80, image: testProxyImage(info), healthcheck: { path: '/up', interval: '500ms', timeout: '2s' }, hosts: ['other.test'] };
    const other = writeProject(info, { service: 'other', repo: 'verify-it/other', extra: { servers: { web: { hosts: [vm1!.name, vm2!.name] } }, proxy } });
    const deployed = await gangway(['deploy', '--version', '1.0.0'], { cwd: other, timeoutMs: 180_000 });
    expect(deployed.code, deployed.output).toBe(0);
    // Two owners' slots, each serving its own containers: nothing to report.
    const clean = await run(['verify', '--json']);
    expect(clean.code, clean.output).toBe(0);
    expect(resultsOf(clean.stdout).filter((r) => r.subject === 'proxy-routes-owned').map((r) => `${r.host} ${r.status}`)).toEqual(['vm1 pass', 'vm2 pass']);

    // hello's slot on vm1 (from the live slots.map, read by hand) and other's container's address.
    const slot = (await onHost(info, 'vm1', "echo 'show map /usr/local/etc/haproxy/slots.map' | socat - UNIX-CONNECT:/var/lib/gangway/proxy/admin.sock | awk '$3 ~ /^hello[|]/ { print $2 }'")).trim();
    expect(slot).toMatch(/^be_slot_\d\d$/);
    const ip = (await onHost(info, 'vm1', `docker inspect -f '{{(index .NetworkSettings.Networks "gangway").IPAddress}}' other-web-1.0.0`)).trim();
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // Runtime servers (no resolvers line, unlike the file's): the engine's DNS never moves them back.
    // other-web-1.0.0 is caught by its name, hello-web-9.9.9 (no such container) by its address.
    const added = ['other-web-1.0.0', 'hello-web-9.9.9'];
    try {
      for (const name of added) {
        expect(await askProxy('vm1', `add server ${slot}/${name} ${ip}:80 weight 100`)).toContain('New server registered');
        await askProxy('vm1', `set server ${slot}/${name} state ready`);
      }
      const r = await run(['verify']);
      expect(r.code, r.output).toBe(1);
      expect(r.output).toContain('[vm1] FAIL proxy-routes-owned');
      expect(r.output).toContain(`${slot} (owner hello) server other-web-1.0.0: expected a container of hello, got container other-web-1.0.0 of other`);
      expect(r.output).toContain(`${slot} (owner hello) server hello-web-9.9.9: expected an address of a container of hello, got ${ip}, the address of container other-web-1.0.0 of other`);
      expect(r.output).not.toContain('[vm2] FAIL proxy-routes-owned');
    } finally {
      for (const name of added) await askProxy('vm1', `set server ${slot}/${name} state maint; del server ${slot}/${name}`);
    }
    expect((await run(['verify'])).code).toBe(0);
  }, 400_000);
});
