// Issue 14, "what it must show": services alpha and beta, and alpha's staging destination, on the
// same two web hosts behind one shared HAProxy each, every one with its own Host name. Every phase
// of beta's life (deploy, a version that dies at start, one that fails its uptests, a rollback,
// its removal) runs under an open-loop load on all three names through both hosts' proxies, GET
// and POST, kept-alive and fresh connections. alpha and alpha@staging must lose nothing in any
// phase and keep their containers; beta must lose nothing until it is removed, and then answer 404
// (no catch-all here), never a reset or a 503. Every look at the hosts is from outside gangway.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadOptions, LoadTarget } from '../../bench/zero-downtime/load.js';
import { stringify } from 'yaml';
import { gangway, getAs, onHost, pushHello, resetHosts, writeProject } from './helpers/deploy.js';
import { testProxyImage } from './helpers/proxy-line.js';
import { underTargetLoad, type LoadSummary } from './helpers/faults.js';

const info = inject('sandbox');
const WEB = ['vm1', 'vm2'] as const;
const NAMES = { alpha: 'alpha.test', staging: 'staging.alpha.test', beta: 'beta.test' } as const;
const PROXY_DIR = '/var/lib/gangway/proxy';

/**
 * 10 req/s per name and web host, 30 per host in all: the fault scenarios' rate (RELIABILITY.md
 * says why 30 on this 2-core machine, where no load reaches the issue's 300). The same mix as the
 * fault load (REQUEST_KINDS: GET and POST, keep-alive and fresh), a 30 s timeout from the send
 * and an in-flight cap above rate x timeout, so the loop stays open; 6 kept-alive connections
 * per name and host, as a browser opens.
 */
const RATE = 10;
const LOAD: LoadOptions = { ratePerHost: RATE, postBodyBytes: 256, requestTimeoutMs: 30_000, maxInFlightPerHost: RATE * 31, keepAliveSocketsPerHost: 6 };

let alpha: string;
let beta: string;
const measured: string[] = [];

/** vm1+vm2 web only, answering `hosts`; `staging` adds gangway.staging.yml with its own names. */
function project(service: string, repo: string, hosts: string[], staging?: string[]): string {
  const [vm1, vm2] = info.hosts;
  const proxy = { app_port: 80, image: testProxyImage(info), healthcheck: { path: '/up', interval: '500ms', timeout: '2s' }, hosts };
  const dir = writeProject(info, { service, repo, extra: { servers: { web: { hosts: [vm1!.name, vm2!.name] } }, proxy } });
  if (staging) writeFileSync(join(dir, 'gangway.staging.yml'), stringify({ proxy: { hosts: staging } }));
  return dir;
}

const targets = (names: string[]): LoadTarget[] =>
  WEB.flatMap((host) => names.map((name) => ({ name: `${host} ${name}`, port: info.hosts.find((h) => h.name === host)!.httpPort, hostHeader: name })));

const alphaIds = () => Promise.all(WEB.map(async (h) => (await onHost(info, h, 'docker ps -aq --no-trunc --filter label=gangway.service=alpha | sort')).trim()));

const failedOn = (load: LoadSummary, name: string) => WEB.map((h) => load.byHost[`${h} ${name}`]!).reduce((n, c) => n + c.failed, 0);
const failuresOn = (load: LoadSummary, name: string) => WEB.flatMap((h) => load.byHost[`${h} ${name}`]!.failures);
const requestsOn = (load: LoadSummary, name: string) => WEB.map((h) => load.byHost[`${h} ${name}`]!).reduce((n, c) => n + c.requests, 0);
const describeLoad = (load: LoadSummary) => `${load.requests} requests, ${load.failed} failed, ${load.unsent} unsent, p99 ${load.p99Ms} ms: ${JSON.stringify(Object.fromEntries(Object.entries(load.byHost).map(([k, v]) => [k, v.failures])))}`;

/** `op` under the load on `names` from 1 s before to 2 s after it. */
async function phase(label: string, names: string[], op: () => Promise<{ code: number; output: string }>) {
  const out = await underTargetLoad(targets(names), 300_000, async () => {
    await new Promise((r) => setTimeout(r, 1000));
    const r = await op();
    await new Promise((r2) => setTimeout(r2, 2000));
    return r;
  }, LOAD);
  measured.push(`| ${label} | ${names.map((n) => `${n} ${requestsOn(out.load, n)}/${failedOn(out.load, n)}`).join(', ')} | ${out.load.p99Ms} | exit ${out.result.code} |`);
  return out;
}

describe('three names on one shared proxy per host, under load (issue 14)', () => {
  let idsBefore: string[];

  beforeAll(async () => {
    await resetHosts(info);
    for (const [repo, version, variant] of [
      ['services-it/alpha', '1.0.0', 'ok'], ['services-it/beta', '1.0.0', 'ok'], ['services-it/beta', '2.0.0', 'ok'],
      ['services-it/beta', '3.0.0', 'broken'], ['services-it/beta', '4.0.0', 'uptest-fails'],
    ] as const) await pushHello(info, repo, version, variant);
    alpha = project('alpha', 'services-it/alpha', [NAMES.alpha], [NAMES.staging]);
    beta = project('beta', 'services-it/beta', [NAMES.beta]);
    for (const [cwd, args] of [[alpha, ['setup', '--version', '1.0.0']], [alpha, ['deploy', '--version', '1.0.0', '-d', 'staging']], [beta, ['deploy', '--version', '1.0.0']]] as const) {
      const r = await gangway([...args], { cwd, timeoutMs: 150_000 });
      if (r.code !== 0) throw new Error(`${args.join(' ')} failed (exit ${r.code}):\n${r.output}`);
    }
    idsBefore = await alphaIds();
  }, 600_000);

  afterAll(async () => {
    if (measured.length > 0) console.info(`shared-proxy load (phase | name requests/failed | p99 ms | outcome):\n${measured.join('\n')}`);
    await resetHosts(info);
  });

  it('alpha, alpha@staging and beta each answer their own name with their own containers', async () => {
    for (const h of WEB) {
      const names = (await onHost(info, h, "docker ps --format '{{.Names}}' | sort")).split('\n').filter((n) => /^(alpha|beta)-/.test(n));
      expect(names).toEqual(['alpha-web-1.0.0', 'alpha-web-staging-1.0.0', 'beta-web-1.0.0']);
    }
    expect(idsBefore.every((ids) => ids.split('\n').length === 2)).toBe(true);
  });

  it('deploy beta 2.0.0: 0 failed on all three names', async () => {
    const { result, load } = await phase('deploy beta 2.0.0', Object.values(NAMES), () => gangway(['deploy', '--version', '2.0.0'], { cwd: beta, timeoutMs: 150_000 }));
    expect(result.code, result.output.slice(-3000)).toBe(0);
    expect(load.failed, describeLoad(load)).toBe(0);
    expect(load.servedVersions['2.0.0'], describeLoad(load)).toBeGreaterThan(0);
    expect(await alphaIds()).toEqual(idsBefore);
  });

  it('a beta version that dies at start: refused, 0 failed on all three names', async () => {
    const { result, load } = await phase('deploy beta 3.0.0 (dies at start)', Object.values(NAMES), () => gangway(['deploy', '--version', '3.0.0'], { cwd: beta, timeoutMs: 150_000 }));
    expect(result.code, result.output.slice(-3000)).toBe(1);
    expect(load.failed, describeLoad(load)).toBe(0);
    expect(await alphaIds()).toEqual(idsBefore);
  });

  it('a beta version that fails its uptests: refused, 0 failed on all three names', async () => {
    const { result, load } = await phase('deploy beta 4.0.0 (fails its uptests)', Object.values(NAMES), () => gangway(['deploy', '--version', '4.0.0'], { cwd: beta, timeoutMs: 150_000 }));
    expect(result.code, result.output.slice(-3000)).toBe(1);
    expect(result.output).toMatch(/failed its uptests/);
    expect(load.failed, describeLoad(load)).toBe(0);
    expect(await alphaIds()).toEqual(idsBefore);
  });

  it('roll beta back to 1.0.0: 0 failed on all three names', async () => {
    const { result, load } = await phase('rollback beta 1.0.0', Object.values(NAMES), () => gangway(['rollback', '1.0.0'], { cwd: beta, timeoutMs: 150_000 }));
    expect(result.code, result.output.slice(-3000)).toBe(0);
    expect(load.failed, describeLoad(load)).toBe(0);
    for (const h of WEB) expect(await getAs(info, h, NAMES.beta)).toEqual({ status: 200, body: 'hello from 1.0.0' });
    expect(await alphaIds()).toEqual(idsBefore);
  });

  it('remove beta: alpha and alpha@staging lose nothing; beta.test then answers 404, never a reset or 5xx; beta is gone', async () => {
    const envBefore = await onHost(info, 'vm1', 'ls /var/lib/gangway/env');
    expect(envBefore).toMatch(/beta-web\.env/);
    const { result, load } = await phase('remove beta', Object.values(NAMES), () => gangway(['remove', '--yes'], { cwd: beta, timeoutMs: 150_000 }));
    expect(result.code, result.output.slice(-3000)).toBe(0);
    expect(failedOn(load, NAMES.alpha), describeLoad(load)).toBe(0);
    expect(failedOn(load, NAMES.staging), describeLoad(load)).toBe(0);
    // Requests to beta: served until its route went, 404 after; nothing cut, nothing 5xx.
    expect(failuresOn(load, NAMES.beta).filter((f) => !f.startsWith('404 ')), describeLoad(load)).toEqual([]);
    for (const h of WEB) {
      expect((await getAs(info, h, NAMES.beta)).status).toBe(404);
      expect(await getAs(info, h, NAMES.staging)).toEqual({ status: 200, body: 'hello from 1.0.0' });
      expect(await onHost(info, h, "docker ps -a --filter label=gangway.service=beta --format '{{.Names}}'")).toBe('');
      expect(await onHost(info, h, 'ls /var/lib/gangway/env')).not.toMatch(/beta/);
      expect(await onHost(info, h, `cat ${PROXY_DIR}/slots.map ${PROXY_DIR}/routes.map`)).not.toMatch(/beta/);
      const live = await onHost(info, h, `echo 'show map /usr/local/etc/haproxy/slots.map' | socat - UNIX-CONNECT:${PROXY_DIR}/admin.sock`);
      expect(live).not.toMatch(/beta/);
      expect(live).toMatch(/alpha@staging/);
      expect(await onHost(info, h, 'tail -1 /var/lib/gangway/audit/beta.log')).toMatch(/"action":"remove".*"result":"ok"/);
    }
    expect(await alphaIds()).toEqual(idsBefore);
  });

  it('the freed slot is taken by the next service; remove without --yes exits 2 touching nothing', async () => {
    const again = await gangway(['remove'], { cwd: alpha, timeoutMs: 60_000 });
    expect(again.code, again.output).toBe(2);
    expect(again.output).toMatch(/--yes/);
    expect(await alphaIds()).toEqual(idsBefore);
    const r = await gangway(['deploy', '--version', '1.0.0'], { cwd: beta, timeoutMs: 150_000 });
    expect(r.code, r.output.slice(-3000)).toBe(0);
    for (const h of WEB) expect(await getAs(info, h, NAMES.beta)).toEqual({ status: 200, body: 'hello from 1.0.0' });
  });
});
