// Issue 14: one HAProxy per host shared by two services. alpha and beta both run web on vm1+vm2,
// each with its own Host name; every look at the hosts is taken from outside gangway (docker exec
// into the host containers, HTTP with a Host header through the published proxy ports).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { appContainers, gangway, getAs as getAsName, onHost, pushHello, resetHosts, writeProject } from './helpers/deploy.js';
import { testProxyImage } from './helpers/proxy-line.js';

const info = inject('sandbox');
const WEB = ['vm1', 'vm2'];
const PROXY_DIR = '/var/lib/gangway/proxy';
let alpha: string;
let beta: string;
let betaConflict: string;

const run = (project: string, args: string[], timeoutMs = 150_000) => gangway(args, { cwd: project, timeoutMs });

/** A project of `service` on vm1+vm2 only (no workers), answering `hosts` on the shared proxy. */
function project(service: string, repo: string, hosts: string[]): string {
  const [vm1, vm2] = info.hosts;
  const base = { app_port: 80, image: testProxyImage(info), healthcheck: { path: '/up', interval: '500ms', timeout: '2s' } };
  // No names: the catch-all (proxy.hosts left out, as a user writes it).
  return writeProject(info, { service, repo, extra: { servers: { web: { hosts: [vm1!.name, vm2!.name] } }, proxy: hosts.length > 0 ? { ...base, hosts } : base } });
}

const getAs = (host: string, name: string) => getAsName(info, host, name);

/** What a host's proxy holds, from outside: the files, the live maps and every backend's servers. */
async function proxySnapshot(host: string): Promise<string> {
  const sock = `${PROXY_DIR}/admin.sock`;
  const ask = (line: string) => `echo '${line}' | socat - UNIX-CONNECT:${sock} 2>/dev/null`;
  return onHost(info, host, [
    `cat ${PROXY_DIR}/haproxy.cfg ${PROXY_DIR}/slots.map ${PROXY_DIR}/routes.map ${PROXY_DIR}/default.map`,
    ...['slots', 'routes', 'default'].map((m) => ask(`show map /usr/local/etc/haproxy/${m}.map`)),
    // Servers and their admin state, without the columns that move by themselves (check times).
    `${ask('show servers state')} | awk 'NR > 2 { print $2, $4, $5, $7 }'`,
  ].join('; '));
}

const ids = async (host: string, service: string) => [...(await appContainers(info, host, { service })).keys()].sort();
const containerIds = (host: string, service: string) => onHost(info, host, `docker ps -aq --no-trunc --filter label=gangway.service=${service} | sort`);

describe('two services on one shared proxy per host', () => {
  beforeAll(async () => {
    await resetHosts(info);
    for (const [repo, version, variant] of [['shared-it/alpha', '1.0.0', 'ok'], ['shared-it/beta', '1.0.0', 'ok'], ['shared-it/beta', '2.0.0', 'broken']] as const) {
      await pushHello(info, repo, version, variant);
    }
    alpha = project('alpha', 'shared-it/alpha', ['alpha.test']);
    beta = project('beta', 'shared-it/beta', ['beta.test']);
    betaConflict = project('beta', 'shared-it/beta', ['beta.test', 'alpha.test']);
  }, 300_000);

  afterAll(async () => {
    await resetHosts(info);
  });

  it('deploys alpha, then beta: each answers its own Host name on both web hosts', async () => {
    const a = await run(alpha, ['setup', '--version', '1.0.0']);
    expect(a.code, a.output).toBe(0);
    const b = await run(beta, ['deploy', '--version', '1.0.0']);
    expect(b.code, b.output).toBe(0);
    for (const host of WEB) {
      expect(await getAs(host, 'alpha.test')).toEqual({ status: 200, body: 'hello from 1.0.0' });
      expect(await getAs(host, 'beta.test')).toEqual({ status: 200, body: 'hello from 1.0.0' });
      // Neither claims it and neither is the catch-all.
      expect((await getAs(host, 'nobody.test')).status).toBe(404);
      expect(await ids(host, 'alpha')).toEqual(['alpha-web-1.0.0']);
      expect(await ids(host, 'beta')).toEqual(['beta-web-1.0.0']);
    }
  });

  it('a beta deploy that dies at start leaves alpha\'s containers as they were and alpha serving', async () => {
    const before = await Promise.all(WEB.map((h) => containerIds(h, 'alpha')));
    const r = await run(beta, ['deploy', '--version', '2.0.0']);
    expect(r.code, r.output).toBe(1);
    expect(await Promise.all(WEB.map((h) => containerIds(h, 'alpha')))).toEqual(before);
    for (const host of WEB) {
      expect(await getAs(host, 'alpha.test')).toEqual({ status: 200, body: 'hello from 1.0.0' });
      expect(await getAs(host, 'beta.test')).toEqual({ status: 200, body: 'hello from 1.0.0' });
    }
  });

  it('beta claiming alpha\'s name exits 2 naming both, and changes nothing', async () => {
    const before = await Promise.all(WEB.map(async (h) => [await proxySnapshot(h), await containerIds(h, 'alpha'), await containerIds(h, 'beta')]));
    const r = await run(betaConflict, ['deploy', '--version', '1.0.0']);
    expect(r.code, r.output).toBe(2);
    expect(r.output).toMatch(/alpha\.test on vm[12] is claimed by both beta \(this deploy\) and alpha/);
    const after = await Promise.all(WEB.map(async (h) => [await proxySnapshot(h), await containerIds(h, 'alpha'), await containerIds(h, 'beta')]));
    expect(after).toEqual(before);
  });

  it('a second catch-all on a host exits 2 naming both, and changes nothing', async () => {
    const gamma = project('gamma', 'shared-it/beta', []);
    const g = await run(gamma, ['deploy', '--version', '1.0.0']);
    expect(g.code, g.output).toBe(0);
    for (const host of WEB) expect(await getAs(host, 'nobody.test')).toEqual({ status: 200, body: 'hello from 1.0.0' });
    const delta = project('delta', 'shared-it/beta', []);
    const before = await Promise.all(WEB.map(async (h) => [await proxySnapshot(h), await containerIds(h, 'gamma'), await containerIds(h, 'delta')]));
    const d = await run(delta, ['deploy', '--version', '1.0.0']);
    expect(d.code, d.output).toBe(2);
    expect(d.output).toMatch(/delta \(this deploy, no proxy\.hosts\) and gamma \(already on the proxy\) would both be the catch-all/);
    expect(await Promise.all(WEB.map(async (h) => [await proxySnapshot(h), await containerIds(h, 'gamma'), await containerIds(h, 'delta')]))).toEqual(before);
    const removed = await run(gamma, ['remove', '--yes']);
    expect(removed.code, removed.output).toBe(0);
    for (const host of WEB) expect((await getAs(host, 'nobody.test')).status).toBe(404);
  });

  it('two proxied roles of one service on one host exit 2 naming both, and change nothing', async () => {
    const [vm1, vm2] = info.hosts;
    const twoRoles = writeProject(info, {
      service: 'beta', repo: 'shared-it/beta',
      extra: { servers: { web: { hosts: [vm1!.name, vm2!.name] }, admin: { hosts: [vm1!.name], proxy: true } }, proxy: { app_port: 80, image: testProxyImage(info), healthcheck: { path: '/up', interval: '500ms', timeout: '2s' }, hosts: ['beta.test'] } },
    });
    const before = await Promise.all(WEB.map(async (h) => [await proxySnapshot(h), await containerIds(h, 'beta')]));
    const r = await run(twoRoles, ['deploy', '--version', '1.0.0']);
    expect(r.code, r.output).toBe(2);
    expect(r.output).toMatch(/vm1 runs two proxied roles of beta \(web and admin\)/);
    expect(await Promise.all(WEB.map(async (h) => [await proxySnapshot(h), await containerIds(h, 'beta')]))).toEqual(before);
  });

  it('two new services deployed to the same hosts at the same instant take two slots (the route lock), and both serve', async () => {
    const gamma = project('gamma', 'shared-it/beta', ['gamma.test']);
    const delta = project('delta', 'shared-it/beta', ['delta.test']);
    const [g, d] = await Promise.all([run(gamma, ['deploy', '--version', '1.0.0']), run(delta, ['deploy', '--version', '1.0.0'])]);
    expect(g.code, g.output).toBe(0);
    expect(d.code, d.output).toBe(0);
    for (const host of WEB) {
      expect(await getAs(host, 'gamma.test')).toEqual({ status: 200, body: 'hello from 1.0.0' });
      expect(await getAs(host, 'delta.test')).toEqual({ status: 200, body: 'hello from 1.0.0' });
      const slots = await onHost(info, host, `cat ${PROXY_DIR}/slots.map`);
      const slotOf = (owner: string) => new RegExp(`^(be_slot_\\d+) ${owner}\\|`, 'm').exec(slots)?.[1];
      expect(slotOf('gamma')).toBeDefined();
      expect(slotOf('delta')).toBeDefined();
      expect(slotOf('gamma')).not.toBe(slotOf('delta'));
    }
    for (const p of [gamma, delta]) {
      const r = await run(p, ['remove', '--yes']);
      expect(r.code, r.output).toBe(0);
    }
  });

  it('a docker restart of the proxy keeps both services\' routes', async () => {
    for (const host of WEB) {
      await onHost(info, host, 'docker restart gangway-proxy >/dev/null');
    }
    for (const host of WEB) {
      let a = await getAs(host, 'alpha.test');
      for (let i = 0; i < 50 && a.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 200));
        a = await getAs(host, 'alpha.test');
      }
      expect(a).toEqual({ status: 200, body: 'hello from 1.0.0' });
      expect(await getAs(host, 'beta.test')).toEqual({ status: 200, body: 'hello from 1.0.0' });
    }
  });
});
