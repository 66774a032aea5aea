// What the bench compares gangway with, on the same hosts and the same HAProxy, driven directly
// through the Engine API over SSH and the proxy's runtime API (no gangway CLI):
// - the bare minimum of a switch: start the new container, wait until the proxy's check passes,
//   switch the proxy to it (the unavoidable part of any zero-downtime deploy);
// - a naive replace behind the same HAProxy: stop the old container, start the new one, point
//   the proxy's existing server entry at the new container's address (HAProxy's retries and
//   redispatch absorb part of that gap, so it is named as proxy-based);
// and, with no proxy at all (the app's port published on the host's :80, as people run a single
// container without a deploy tool):
// - `docker stop` + `docker rm` + `docker run -p 80:80` of the new version;
// - a compose-style recreate, in Docker Compose v2's order: stop the old container, rename it
//   aside, create the new one under the service's name, start it, remove the old one.
import { request } from 'node:http';
import type Docker from 'dockerode';
import { appContainerSpec } from '../../src/app/container.js';
import type { Host } from '../../src/hosts/host.js';
import { createHost, type SshConnectOptions } from '../../src/hosts/pool.js';
import { readServers } from '../../src/proxy/live-servers.js';
import { addCandidateBeforeSync, removeServer, switchTo } from '../../src/proxy/runtime-operations.js';
import { runtimeApi, type ProxyTarget } from '../../src/proxy/target.js';
import { waitDrained, waitHealthy } from '../../src/proxy/waits.js';
import { slotName } from '../../src/proxy/layout.js';
import type { SandboxInfo } from '../../src/sandbox/index.js';
import { BENCH_HEALTHCHECK } from './sandbox.js';

export const BENCH_LABELS = { 'gangway.bench': 'zero-downtime' };
const APP_NETWORK = 'gangway';
const SERVICE = 'hello';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function openHosts(info: SandboxInfo, names: string[]): Promise<Host[]> {
  const ssh: SshConnectOptions = { knownHostsPath: info.knownHostsPath, trustOnFirstUse: false, connectTimeoutMs: 5000, keepaliveIntervalMs: 5000 };
  return Promise.all(
    names.map(async (name) => {
      const h = info.hosts.find((x) => x.name === name)!;
      const host = createHost({ name, address: h.address, port: h.sshPort, user: 'root', identityFile: info.keyPath, local: false }, ssh);
      await host.connect();
      return host;
    }),
  );
}

export const proxyTargetOf = (host: Host): ProxyTarget => ({ host, service: SERVICE, appPort: 80, healthcheck: BENCH_HEALTHCHECK, network: APP_NETWORK });

/**
 * The same create call gangway makes for a web container (image, env, network, alias, restart
 * policy), under the bench's own name and label so gangway never mistakes it for a version.
 */
export function benchContainerOptions(image: string, name: string): Docker.ContainerCreateOptions {
  const spec = appContainerSpec({ deployment: { service: SERVICE }, role: 'web', version: 'bench', image, envClear: { MODE: 'bench' }, envSecret: {}, network: APP_NETWORK, appPort: 80 });
  return {
    ...spec.createOptions,
    name,
    Labels: BENCH_LABELS,
    NetworkingConfig: { EndpointsConfig: { [APP_NETWORK]: { Aliases: [name] } } },
  };
}

/** Pure: the runtime-API line that re-points an existing server at another address. */
export const setServerAddrLine = (server: string, address: string, port: number): string =>
  // The bench's host runs one service, which takes the first backend slot of the shared proxy.
  `set server ${slotName(0)}/${server} addr ${address} port ${port}`;

/** Creates and starts a bench container of `image` (replacing one of the same name); its address on the app network. */
export async function startContainer(host: Host, image: string, name: string): Promise<string> {
  const docker = await host.docker();
  await docker.getContainer(name).remove({ force: true }).catch(() => {});
  const c = await docker.createContainer(benchContainerOptions(image, name));
  await c.start();
  const ip = (await c.inspect()).NetworkSettings.Networks?.[APP_NETWORK]?.IPAddress;
  if (!ip) throw new Error(`${name} has no address on ${APP_NETWORK} on ${host.name}`);
  return ip;
}

/** The one server the proxy sends traffic to (ready), by name: the live container's. */
export async function liveServer(t: ProxyTarget): Promise<string> {
  const live = (await readServers(t)).filter((s) => s.state === 'ready');
  if (live.length !== 1) throw new Error(`expected one live server on ${t.host.name}, found ${live.map((s) => s.name).join(', ') || 'none'}`);
  return live[0]!.name;
}

export interface BareTimings {
  host: string;
  startMs: number;
  healthyMs: number;
  switchMs: number;
  totalMs: number;
}

export interface BareSwitch {
  timings: BareTimings;
  /** Puts the proxy back on the server it had and removes the bench container (not timed). */
  restore(): Promise<void>;
}

/** Start, wait for the proxy's check, switch: timed on one host. */
export async function bareMinimumSwitch(host: Host, image: string, name = 'hello-web-bench-bare'): Promise<BareSwitch> {
  const t = proxyTargetOf(host);
  const previous = await liveServer(t);
  const t0 = performance.now();
  await startContainer(host, image, name);
  const t1 = performance.now();
  // The proxy's file written while it checks the server, as gangway's gate does.
  const { fileSync } = await addCandidateBeforeSync(t, { name });
  await Promise.all([waitHealthy(t, name, 20_000), fileSync]);
  const t2 = performance.now();
  await switchTo(t, name, [previous]);
  const t3 = performance.now();
  return {
    timings: { host: host.name, startMs: t1 - t0, healthyMs: t2 - t1, switchMs: t3 - t2, totalMs: t3 - t0 },
    async restore() {
      // The previous server served until the switch: gangway holds it (no active check), so it
      // takes traffic back at once, as gangway's own undo does; a checked one must pass first.
      const back = (await readServers(t)).find((srv) => srv.name === previous);
      if (back?.health !== 'held') await waitHealthy(t, previous, 20_000);
      await switchTo(t, previous, [name]);
      await waitDrained(t, name, 5000);
      await removeServer(t, name);
      await (await host.docker()).getContainer(name).remove({ force: true });
    },
  };
}

export interface NaiveTimings {
  host: string;
  /** docker stop of the live container. */
  stopMs: number;
  /** create + start of the new one, and the runtime-API address change. */
  startMs: number;
  /** From the stop until GET / through the proxy answers with the new version. */
  untilServedMs: number;
  replaced: string;
}

/**
 * Stop the old container, start the new one, re-point the proxy's server entry at it; then wait
 * until the new version answers through the proxy. The server keeps its name, health check and state throughout:
 * HAProxy is left to notice the outage and the recovery by itself, as with any in-place replace.
 */
export async function naiveReplace(host: Host, image: string, newVersion: string, proxyPort: number, name = 'hello-web-bench-naive'): Promise<NaiveTimings> {
  const t = proxyTargetOf(host);
  const server = await liveServer(t);
  const docker = await host.docker();
  const t0 = performance.now();
  await docker.getContainer(server).stop({ t: 10 });
  const t1 = performance.now();
  const ip = await startContainer(host, image, name);
  await runtimeApi(t).send(setServerAddrLine(server, ip, 80));
  const t2 = performance.now();
  // The proxy may never have marked the server down (a fast replace), so its check state says
  // little: the replace is over when the new version answers through the proxy.
  await waitServed(proxyPort, newVersion, 20_000);
  const t3 = performance.now();
  return { host: host.name, stopMs: t1 - t0, startMs: t2 - t1, untilServedMs: t3 - t0, replaced: server };
}

function getBody(port: number, hostHeader?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 2000, ...(hostHeader !== undefined ? { headers: { Host: hostHeader } } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

/** Until GET / through the proxy (with this Host header, if given) answers 200 "hello from <version>". */
export async function waitServed(proxyPort: number, version: string, timeoutMs: number, hostHeader?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await getBody(proxyPort, hostHeader);
    if (r.status === 200 && r.body.trim() === `hello from ${version}`) return;
    if (Date.now() > deadline) throw new Error(`127.0.0.1:${proxyPort}${hostHeader ? ` (Host: ${hostHeader})` : ''} did not serve ${version} within ${timeoutMs} ms (last: ${r.status} ${r.body.trim().slice(0, 60)})`);
    await sleep(50);
  }
}

/** Removes the bench's own containers and proxy servers (everything else dies with the sandbox). */
export async function removeBenchLeftovers(host: Host, names: string[]): Promise<void> {
  const t = proxyTargetOf(host);
  for (const name of names) {
    await removeServer(t, name).catch(() => {});
    await (await host.docker()).getContainer(name).remove({ force: true }).catch(() => {});
  }
}

/** The name of the app container the no-proxy baselines run, with the app's :80 on the host's :80. */
export const DIRECT_NAME = 'hello-web-direct';

function directOptions(image: string, name: string): Docker.ContainerCreateOptions {
  const base = benchContainerOptions(image, name);
  return { ...base, ExposedPorts: { '80/tcp': {} }, HostConfig: { ...base.HostConfig, PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '80' }] } } };
}

/**
 * Leaves the host as a user without a deploy tool has it: gangway's proxy and app containers
 * removed (they hold :80), one container of `image` published on :80. Not timed.
 */
export async function startDirect(host: Host, image: string): Promise<void> {
  const docker = await host.docker();
  for (const c of await docker.listContainers({ all: true, filters: { label: ['gangway.managed'] } })) {
    await docker.getContainer(c.Id).remove({ force: true });
  }
  await docker.getContainer(DIRECT_NAME).remove({ force: true }).catch(() => {});
  await (await docker.createContainer(directOptions(image, DIRECT_NAME))).start();
}

export interface DirectTimings {
  host: string;
  /** From the first call until the new container was started. */
  replaceMs: number;
  /** From the first call until GET / on the host's :80 answers with the new version. */
  untilServedMs: number;
}

/** `docker stop` (10 s grace, as the CLI), `docker rm`, `docker run -d -p 80:80` of the new version. */
export async function stopRunDirect(host: Host, image: string, newVersion: string, port: number): Promise<DirectTimings> {
  const docker = await host.docker();
  const t0 = performance.now();
  await docker.getContainer(DIRECT_NAME).stop({ t: 10 });
  await docker.getContainer(DIRECT_NAME).remove();
  await (await docker.createContainer(directOptions(image, DIRECT_NAME))).start();
  const t1 = performance.now();
  await waitServed(port, newVersion, 20_000);
  return { host: host.name, replaceMs: t1 - t0, untilServedMs: performance.now() - t0 };
}

/** Compose v2's recreate: stop, rename the old aside, create and start the new, remove the old. */
export async function composeRecreate(host: Host, image: string, newVersion: string, port: number): Promise<DirectTimings> {
  const docker = await host.docker();
  const old = docker.getContainer(DIRECT_NAME);
  const t0 = performance.now();
  const id = (await old.inspect()).Id;
  await old.stop({ t: 10 });
  const aside = docker.getContainer(id);
  await aside.rename({ name: `${id.slice(0, 12)}_${DIRECT_NAME}` });
  await (await docker.createContainer(directOptions(image, DIRECT_NAME))).start();
  await aside.remove();
  const t1 = performance.now();
  await waitServed(port, newVersion, 20_000);
  return { host: host.name, replaceMs: t1 - t0, untilServedMs: performance.now() - t0 };
}
