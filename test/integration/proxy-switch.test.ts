// The proxy module end to end on the local engine: a real HAProxy container and two busybox
// app containers; candidate -> healthy (proxy side) -> switch -> drained -> removed under a
// bounded load that must see zero errors, and a proxy restart that keeps the routes.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Events } from '../../src/events/events.js';
import { LocalHost } from '../../src/hosts/local-host.js';
import {
  addCandidate, addCandidateBeforeSync, configInSync, ensureProxy, proxyUpToDate, proxyContainerSpec, readConfigFile, readProxyIdentity, readProxyVersion, readServers, removeServer, switchTo, waitDrained, waitHealthy,
  type EnsureProxyOptions, type ProxyTarget,
} from '../../src/proxy/index.js';
import { specHash } from '../../src/proxy/container.js';
import { closingOff, closingOn } from '../../src/proxy/runtime-maps.js';
import { runtimeApi } from '../../src/proxy/target.js';
import { parseRenderedServers } from '../../src/proxy/render.js';
import { ensureImage } from '../../src/sandbox/image-builder.js';
import { fileEntry, type ImageSpec } from '../../src/sandbox/image-spec.js';
import { busyboxImage, loadBusyboxInputs } from '../../src/sandbox/images/busybox.js';
import { expectUnprivilegedProxy, proxyUserCommand } from './helpers/proxy-user.js';
import { localProxyImage, TEST_PROXY_LINE } from './helpers/proxy-line.js';
import { DEFAULT_LOAD, failedOf, startLoad as startRateLoad, type LoadOptions, type LoadResult } from '../../bench/zero-downtime/load.js';

const RUN = randomBytes(3).toString('hex');
const LABELS = { 'gangway.dev': 'proxy', 'gangway.dev.run': RUN };
const SERVICE = `pxt${RUN}`;
const NETWORK = `gangway-proxytest-${RUN}`;
const LOAD_MAX_MS = 20_000;
/**
 * The rate, with the bench's mix; this app answers its version to GET and POST alike.
 * Reached here (one proxy on the local engine); with the sandbox's hosts running beside it, this
 * 2-core machine sends less (RELIABILITY.md, "A settings change reloads the proxy").
 */
const RELOAD_LOAD: LoadOptions = {
  ...DEFAULT_LOAD,
  ratePerHost: 300,
  checkBody: (_kind, body) => (/^v\d+$/.test(body.trim()) ? { ok: true, version: body.trim() } : { ok: false }),
};

const events = new Events();
if (process.env.GANGWAY_TEST_VERBOSE) events.on((e) => console.log(JSON.stringify(e)));
const host = new LocalHost();
let docker: Docker;
let hostDir: string;
let httpPort: number;
let appImage: string;
let ensureOpts: EnsureProxyOptions;
let target: ProxyTarget;

/** Busybox httpd: GET / answers the version, POST /cgi-bin/echo reads the body and does the same. */
function appImageSpec(busyboxTag: string): ImageSpec {
  const start = [
    '#!/bin/sh',
    'echo "$APP_VERSION" > /www/version',
    'cp /www/version /www/index.html',
    '[ "$HEALTHY" = no ] && rm -f /www/up',
    'exec httpd -f -p 80 -h /www',
    '',
  ].join('\n');
  const cgi = [
    '#!/bin/sh',
    '[ -n "$CONTENT_LENGTH" ] && head -c "$CONTENT_LENGTH" > /dev/null',
    'printf "Content-Type: text/plain\\r\\n\\r\\n"',
    'cat /www/version',
    '',
  ].join('\n');
  return {
    name: 'proxy-test-app',
    dockerfile: [`FROM ${busyboxTag}`, 'LABEL gangway.dev=proxy', 'COPY rootfs/ /', 'CMD ["/start.sh"]', ''].join('\n'),
    context: [
      fileEntry('rootfs/start.sh', start, 0o755),
      fileEntry('rootfs/www/up', 'ok\n'),
      fileEntry('rootfs/www/cgi-bin/echo', cgi, 0o755),
    ],
  };
}

const ipOf = async (name: string) => (await docker.getContainer(name).inspect()).NetworkSettings.Networks[NETWORK]!.IPAddress;

async function startApp(version: string, healthy = true): Promise<string> {
  const name = `${SERVICE}-web-${version}`;
  const c = await docker.createContainer({
    name,
    Image: appImage,
    Env: [`APP_VERSION=${version}`, `HEALTHY=${healthy ? 'yes' : 'no'}`],
    Labels: LABELS,
    HostConfig: { NetworkMode: NETWORK },
  });
  await c.start();
  return name;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Reply { status: number; body: string }

function send(method: 'GET' | 'POST', agent: Agent | false): Promise<Reply> {
  const body = method === 'POST' ? 'x'.repeat(2048) : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: httpPort, method, path: method === 'POST' ? '/cgi-bin/echo' : '/', agent, timeout: 5000,
        headers: body ? { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) } : {} },
      (res: IncomingMessage) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text.trim() }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Bounded load: four loops (keep-alive/fresh x GET/POST) until stopped or LOAD_MAX_MS. */
function startLoad() {
  const counts = { requests: 0, errors: 0, byBody: new Map<string, number>() };
  const errorSamples: string[] = [];
  let stopped = false;
  const deadline = Date.now() + LOAD_MAX_MS;
  const loop = async (method: 'GET' | 'POST', keepAlive: boolean) => {
    const agent = keepAlive ? new Agent({ keepAlive: true, maxSockets: 1 }) : false;
    while (!stopped && Date.now() < deadline) {
      counts.requests++;
      try {
        const r = await send(method, agent);
        if (r.status !== 200) {
          counts.errors++;
          errorSamples.push(`${method} ${r.status} ${r.body.slice(0, 80)}`);
        } else counts.byBody.set(r.body, (counts.byBody.get(r.body) ?? 0) + 1);
      } catch (err) {
        counts.errors++;
        errorSamples.push(`${method} ${keepAlive ? 'keep-alive' : 'fresh'}: ${(err as Error).message}`);
      }
    }
    if (agent) agent.destroy();
  };
  const loops = Promise.all([loop('GET', true), loop('POST', true), loop('GET', false), loop('POST', false)]);
  return {
    counts,
    errorSamples,
    snapshot: () => new Map(counts.byBody),
    stop: async () => {
      stopped = true;
      await loops;
    },
  };
}

/** The Connection header of the answer to a keep-alive GET (HTTP/1.1 keeps it alive when absent). */
async function connectionHeader(): Promise<string | undefined> {
  const agent = new Agent({ keepAlive: true });
  try {
    return await new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: httpPort, path: '/', agent, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers.connection));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
  } finally {
    agent.destroy();
  }
}

async function bodies(n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await send('GET', false)).body);
  return out;
}

async function restartProxy(): Promise<void> {
  await docker.getContainer(target.containerName!).restart({ t: 5 });
  await proxyAnswers();
}

/** Until the proxy's runtime API answers. */
async function proxyAnswers(): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await readServers(target);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Read with `docker top` and `stat` on this machine, outside gangway. */
async function expectUnprivileged(): Promise<void> {
  expectUnprivilegedProxy((await host.exec(proxyUserCommand(target.containerName!, `${hostDir}/admin.sock`))).stdout);
}

describe('proxy on the local engine', () => {
  beforeAll(async () => {
    docker = await host.docker();
    const proxyImage = await localProxyImage(docker, events);
    const busybox = await ensureImage(docker, busyboxImage(await loadBusyboxInputs()), events);
    appImage = (await ensureImage(docker, appImageSpec(busybox.tag), events)).tag;
    hostDir = mkdtempSync(join(tmpdir(), 'gangway-proxy-it-'));
    httpPort = await freePort();
    target = {
      host,
      service: SERVICE,
      appPort: 80,
      healthcheck: { path: '/up', intervalMs: 300, timeoutMs: 2000 },
      network: NETWORK,
      containerName: `gangway-proxy-test-${RUN}`,
      hostDir,
      events,
      pollMs: 100,
    };
    ensureOpts = { image: proxyImage, httpPort, publishAddress: '127.0.0.1', labels: LABELS };
  });

  afterAll(async () => {
    if (!docker) return;
    const mine = await docker.listContainers({ all: true, filters: { label: [`gangway.dev.run=${RUN}`] } });
    for (const c of mine) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
    await docker.getNetwork(NETWORK).remove().catch(() => {});
    if (appImage) await docker.getImage(appImage).remove({ force: true }).catch(() => {});
    if (hostDir) rmSync(hostDir, { recursive: true, force: true });
  });

  it('creates the proxy with an empty backend, then leaves it alone', async () => {
    // What a deploy asks while it pulls (read only): no proxy yet, so not as wanted.
    expect(await proxyUpToDate(target, ensureOpts)).toBe(false);
    expect((await ensureProxy(target, ensureOpts)).action).toBe('created');
    expect(await proxyUpToDate(target, ensureOpts)).toBe(true);
    expect(await readServers(target)).toEqual([]);
    // The line under test (GANGWAY_TEST_PROXY) is the one that runs.
    expect((await readProxyVersion(target)).line).toBe(TEST_PROXY_LINE);
    expect((await send('GET', false)).status).toBe(503);
    expect((await ensureProxy(target, ensureOpts)).action).toBe('unchanged');
    expect(await configInSync(target)).toBe(true);
  });

  it('labels the container, publishes on 127.0.0.1 and keeps the socket in the host dir', async () => {
    const info = await docker.getContainer(target.containerName!).inspect();
    expect(info.Config.Labels).toMatchObject({ 'gangway.managed': 'proxy', ...LABELS });
    expect(info.HostConfig.RestartPolicy?.Name).toBe('always');
    expect(info.HostConfig.PortBindings?.['80/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: String(httpPort) }]);
    expect((await host.exec(`test -S ${hostDir}/admin.sock && echo socket`)).stdout.trim()).toBe('socket');
  });

  it('runs HAProxy unprivileged: its processes as uid 80080 with the docker group, the socket theirs only', async () => {
    await expectUnprivileged();
    const info = await docker.getContainer(target.containerName!).inspect();
    expect(info.HostConfig.Sysctls).toEqual({ 'net.ipv4.ip_unprivileged_port_start': '0' });
    expect(info.HostConfig.CapDrop).toEqual(['ALL']);
    // :80 inside the container still serves (the empty backend's 503 comes from HAProxy).
    expect((await send('GET', false)).status).toBe(503);
  });

  it('adds a candidate that is health-checked but gets no traffic, then switches to it', async () => {
    const v1 = await startApp('v1');
    // The file's sync handed to the caller: the call returns with the server in the proxy, checked.
    const { fileSync } = await addCandidateBeforeSync(target, { name: v1 });
    expect(fileSync).toBeInstanceOf(Promise);
    const [added] = await readServers(target);
    expect(added).toMatchObject({ name: v1, state: 'drain', port: 80 });
    expect((await send('GET', false)).status).toBe(503);
    let passing = 0;
    const healthy = await waitHealthy(target, v1, 10_000, undefined, () => { passing++; });
    expect(healthy).toMatchObject({ health: 'up', checkStatus: 'L7OK', checkCode: 200, state: 'drain' });
    // Told once, at the first passing check (which, HAProxy counting it up at once, may be this one).
    expect(passing).toBe(1);
    await fileSync;
    expect(await configInSync(target)).toBe(true);
    expect((await send('GET', false)).status).toBe(503);
    await switchTo(target, v1);
    expect(await bodies(3)).toEqual(['v1', 'v1', 'v1']);
    expect(await configInSync(target)).toBe(true);
  });

  it('switches v1 -> v2 under load with zero failed requests', async () => {
    const v1 = `${SERVICE}-web-v1`;
    const load = startLoad();
    try {
      await new Promise((r) => setTimeout(r, 500));
      const v2 = await startApp('v2');
      await addCandidate(target, { name: v2 });
      await waitHealthy(target, v2, 10_000);
      // Healthy from the proxy's side, yet no user request reached it.
      expect(load.snapshot().get('v2')).toBeUndefined();
      await switchTo(target, v2, [v1]);
      const drained = await waitDrained(target, v1, 10_000);
      expect(drained.drained).toBe(true);
      await removeServer(target, v1);
      const afterRemove = load.snapshot();
      await new Promise((r) => setTimeout(r, 1000));
      // Every request after the removal went to v2.
      expect(load.snapshot().get('v1')).toBe(afterRemove.get('v1'));
    } finally {
      await load.stop();
    }
    expect(load.errorSamples).toEqual([]);
    expect(load.counts.errors).toBe(0);
    expect(load.counts.requests).toBeGreaterThan(100);
    events.log(`switch under load: ${load.counts.requests} requests, ${load.counts.errors} errors, v1 ${load.counts.byBody.get('v1')}, v2 ${load.counts.byBody.get('v2')}`);
    expect(load.counts.byBody.get('v1')).toBeGreaterThan(0);
    expect(load.counts.byBody.get('v2')).toBeGreaterThan(0);
    expect((await readServers(target)).map((s) => [s.name, s.state])).toEqual([[`${SERVICE}-web-v2`, 'ready']]);
  });

  it('keeps the config file equal to the runtime state', async () => {
    expect(await configInSync(target)).toBe(true);
    const live = await readServers(target);
    const file = parseRenderedServers((await readConfigFile(target))!);
    // The file names each container; the runtime holds the address it resolved to.
    expect(file).toEqual(live.map(({ name, port, state }) => ({ name, address: name, port, state })));
  });

  it('keeps the routes across a proxy restart', async () => {
    await restartProxy();
    expect((await readServers(target)).map((s) => [s.name, s.state])).toEqual([[`${SERVICE}-web-v2`, 'ready']]);
    await waitHealthy(target, `${SERVICE}-web-v2`, 10_000);
    expect(await bodies(3)).toEqual(['v2', 'v2', 'v2']);
    expect(await configInSync(target)).toBe(true);
  });

  it('after a restart, finds each container by name: an app that comes back on another address is followed', async () => {
    const v2 = `${SERVICE}-web-v2`;
    const before = await ipOf(v2);
    expect((await readServers(target)).map((s) => s.address)).toEqual([before]);
    // What an engine restart can do: the app stops, another container takes its address, the app
    // comes back on a new one. A route that named the address would now reach the filler.
    await docker.getContainer(v2).stop({ t: 1 });
    const filler = await startApp('filler');
    try {
      await docker.getContainer(v2).start();
      const moved = await ipOf(v2);
      expect(moved).not.toBe(before);
      const deadline = Date.now() + 15_000;
      while ((await readServers(target))[0]?.address !== moved && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect((await readServers(target)).map((s) => s.address)).toEqual([moved]);
      await waitHealthy(target, v2, 10_000);
      expect(await bodies(3)).toEqual(['v2', 'v2', 'v2']);
    } finally {
      await docker.getContainer(filler).remove({ force: true });
    }
  });

  it('a server loaded from the file (HAProxy 2.6 and 3.0 will not delete it) leaves the rotation and the file, and is reused when its version comes back', async () => {
    const v2 = `${SERVICE}-web-v2`;
    const v5 = await startApp('v5');
    await addCandidate(target, { name: v5 });
    await waitHealthy(target, v5, 10_000);
    await switchTo(target, v5);
    expect(await removeServer(target, v2)).toBe('kept');
    expect((await readServers(target)).map((s) => [s.name, s.state])).toEqual([[v2, 'maint'], [v5, 'ready']]);
    expect(parseRenderedServers((await readConfigFile(target))!).map((s) => s.name)).toEqual([v5]);
    expect(await configInSync(target)).toBe(true);
    expect(await bodies(3)).toEqual(['v5', 'v5', 'v5']);
    // A rollback to v2: its container is still there, its server is reused.
    await addCandidate(target, { name: v2 });
    await waitHealthy(target, v2, 10_000);
    await switchTo(target, v2);
    expect(await bodies(3)).toEqual(['v2', 'v2', 'v2']);
    expect(await removeServer(target, v5)).toBe('removed');
    expect((await readServers(target)).map((s) => [s.name, s.state])).toEqual([[v2, 'ready']]);
    expect(await configInSync(target)).toBe(true);
    await docker.getContainer(v5).remove({ force: true });
  });

  it('reports why a candidate is unhealthy and leaves the live server serving', async () => {
    const broken = await startApp('v3', false);
    await addCandidate(target, { name: broken });
    let passing = 0;
    await expect(waitHealthy(target, broken, 2000, undefined, () => { passing++; })).rejects.toThrow(/not healthy .* L7STS 404/);
    expect(passing).toBe(0);
    // A caller that stops waiting stops the polls at once, not at the timeout (a poll after the
    // command closed its connections would open a new one and keep the CLI from exiting).
    const stop = new AbortController();
    const t0 = Date.now();
    setTimeout(() => stop.abort(), 300);
    await expect(waitHealthy(target, broken, 20_000, stop.signal)).rejects.toThrow(/stopped waiting/);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await bodies(3)).toEqual(['v2', 'v2', 'v2']);
    await expect(switchTo(target, broken)).rejects.toThrow(/refusing to switch/);
    await removeServer(target, broken);
    await removeServer(target, broken); // already gone: still fine
    expect((await readServers(target)).map((s) => s.name)).toEqual([`${SERVICE}-web-v2`]);
    await docker.getContainer(broken).remove({ force: true });
  });

  it('restores a draining candidate as drain after a restart, and can still switch to it', async () => {
    const v4 = await startApp('v4');
    await addCandidate(target, { name: v4 });
    await waitHealthy(target, v4, 10_000);
    await restartProxy();
    expect((await readServers(target)).map((s) => [s.name, s.state])).toEqual([[`${SERVICE}-web-v2`, 'ready'], [v4, 'drain']]);
    await waitHealthy(target, v4, 10_000);
    expect(await bodies(3)).toEqual(['v2', 'v2', 'v2']);
    await switchTo(target, v4);
    expect(await bodies(3)).toEqual(['v4', 'v4', 'v4']);
    await removeServer(target, `${SERVICE}-web-v2`);
    expect(await configInSync(target)).toBe(true);
  });

  it('applies health-check changes with seamless reloads that drop nothing at 300 req/s, keeping the routes', async () => {
    // Five settings changes, each one reload, under the bench's open-loop load (keep-alive and
    // fresh connections, GET and POST). Without closing connections first (seamless-reload.ts),
    // HAProxy 2.6's old worker reset keep-alive requests: 10 over these five reloads in a control
    // run with the closing step left out.
    const intervals = [500, 400, 500, 400, 500];
    const load = startRateLoad([{ name: 'proxy', port: httpPort }], RELOAD_LOAD);
    const actions: string[] = [];
    let result: LoadResult;
    try {
      await new Promise((r) => setTimeout(r, 500));
      for (const intervalMs of intervals) {
        target = { ...target, healthcheck: { ...target.healthcheck, intervalMs } };
        actions.push((await ensureProxy(target, ensureOpts)).action);
        await new Promise((r) => setTimeout(r, 300));
      }
    } finally {
      result = await load.stop();
    }
    expect(actions).toEqual(intervals.map(() => 'reloaded'));
    // The new master and worker of a reload are as unprivileged as the first ones.
    await expectUnprivileged();
    const counts = result.byHost.get('proxy')!;
    expect([...counts.failureKinds]).toEqual([]);
    expect(failedOf(counts)).toBe(0);
    // The rate was reached: nothing held back by the in-flight cap, and about 300 req/s sent.
    expect(result.shortfallByHost.get('proxy')).toBe(0);
    expect(counts.requests / (counts.durationMs / 1000)).toBeGreaterThan(RELOAD_LOAD.ratePerHost * 0.9);
    expect((await readConfigFile(target))).toContain('check inter 500ms');
    expect((await readServers(target)).map((s) => [s.name, s.state])).toEqual([[`${SERVICE}-web-v4`, 'ready']]);
    expect(await bodies(2)).toEqual(['v4', 'v4']);
    // The last new worker loaded closing.map empty: connections are kept alive again.
    expect(await connectionHeader()).not.toBe('close');
    // The flag itself: while its key is set, every response closes its connection.
    const api = runtimeApi(target);
    await api.run(closingOn());
    expect(await connectionHeader()).toBe('close');
    await api.run(closingOff());
    expect(await connectionHeader()).not.toBe('close');
  });

  it('a server added at runtime does not follow a container that moves; ensureProxy (every setup and deploy) points it at the container again', async () => {
    const v6 = await startApp('v6');
    await addCandidate(target, { name: v6 });
    await waitHealthy(target, v6, 10_000);
    await switchTo(target, v6);
    const before = await ipOf(v6);
    await docker.getContainer(v6).stop({ t: 1 });
    const filler = await startApp('filler2');
    try {
      await docker.getContainer(v6).start();
      const moved = await ipOf(v6);
      expect(moved).not.toBe(before);
      const server = async () => (await readServers(target)).find((x) => x.name === v6)!;
      // HAProxy 2.6 and 3.0 cannot resolve a runtime-added server's name: it still points where v6 was.
      expect((await server()).address).toBe(before);
      // A moved container is work for ensureProxy: the read-only check says so and changes nothing.
      expect(await proxyUpToDate(target, ensureOpts)).toBe(false);
      expect((await server()).address).toBe(before);
      expect((await ensureProxy(target, ensureOpts)).action).toBe('unchanged');
      expect((await server()).address).toBe(moved);
      expect(await proxyUpToDate(target, ensureOpts)).toBe(true);
      // Held since its switch (a serving server is not taken out by checks): routed at once.
      expect((await server()).health).toBe('held');
      expect(await bodies(3)).toEqual(['v6', 'v6', 'v6']);
    } finally {
      await docker.getContainer(filler).remove({ force: true });
    }
  });

  it('a route whose container is gone is taken out by ensureProxy, also from a proxy started again from its files; a container of that name can then be added', async () => {
    const v7 = await startApp('v7');
    await addCandidate(target, { name: v7 });
    await waitHealthy(target, v7, 10_000);
    await switchTo(target, v7);
    expect(await bodies(2)).toEqual(['v7', 'v7']);
    // An operator removes the proxy and the app's container by hand; the proxy's files stay.
    await docker.getContainer(target.containerName!).remove({ force: true });
    await docker.getContainer(v7).remove({ force: true });
    expect(await readConfigFile(target)).toContain(`server ${v7} `);
    expect(await proxyUpToDate(target, ensureOpts)).toBe(false);
    expect((await ensureProxy(target, ensureOpts)).action).toBe('created');
    // Started from the files, which held v7: ensureProxy took it out, there and in the files.
    expect((await readServers(target)).map((s) => s.name)).not.toContain(v7);
    expect(await readConfigFile(target)).not.toContain(`server ${v7} `);
    expect(await proxyUpToDate(target, ensureOpts)).toBe(true);
    // The same version again: a new container of the same name, added and switched to.
    await startApp('v7');
    await addCandidate(target, { name: v7 });
    await waitHealthy(target, v7, 10_000);
    await switchTo(target, v7);
    expect(await bodies(2)).toEqual(['v7', 'v7']);

    // The proxy running, the container removed by hand: the read-only check sees work, and
    // ensureProxy takes the route out without touching the proxy.
    await docker.getContainer(v7).remove({ force: true });
    expect(await proxyUpToDate(target, ensureOpts)).toBe(false);
    expect((await ensureProxy(target, ensureOpts)).action).toBe('unchanged');
    expect((await readServers(target)).map((s) => s.name)).not.toContain(v7);
    await startApp('v7');
    await addCandidate(target, { name: v7 });
    await waitHealthy(target, v7, 10_000);
    await switchTo(target, v7);
    expect(await bodies(2)).toEqual(['v7', 'v7']);
    // Back as the next test expects it: v6 serving, v7 gone.
    await switchTo(target, `${SERVICE}-web-v6`);
    expect(await removeServer(target, v7)).toBe('removed');
    await docker.getContainer(v7).remove({ force: true });
  });

  it('upgrades a root proxy of an earlier gangway: recreated once, unprivileged, its routes and socket taken over', async () => {
    const name = target.containerName!;
    const live = (await readServers(target)).map((s) => [s.name, s.state]);
    // What earlier versions created: the same container as root, with Docker's default capabilities.
    const current = proxyContainerSpec({ ...ensureOpts, ...(await readProxyIdentity(target)), network: NETWORK, containerName: name, hostDir });
    const { Sysctls: _s, CapDrop: _c, SecurityOpt: _o, ...rootHostConfig } = current.HostConfig!;
    const rootSpec = { ...current, User: '0:0', HostConfig: rootHostConfig };
    rootSpec.Labels = { ...current.Labels, 'gangway.proxy.spec': specHash(rootSpec) };
    await docker.getContainer(name).remove({ force: true });
    await (await docker.createContainer(rootSpec)).start();
    await proxyAnswers();
    expect((await host.exec(`stat -c '%u:%G %a' ${hostDir}/admin.sock`)).stdout.trim()).toBe('0:docker 660');
    expect(await proxyUpToDate(target, ensureOpts)).toBe(false);
    expect((await ensureProxy(target, ensureOpts)).action).toBe('recreated');
    await expectUnprivileged();
    expect((await readServers(target)).map((s) => [s.name, s.state])).toEqual(live);
    await waitHealthy(target, `${SERVICE}-web-v6`, 10_000);
    expect(await bodies(3)).toEqual(['v6', 'v6', 'v6']);
    expect((await ensureProxy(target, ensureOpts)).action).toBe('unchanged');
  });
});
