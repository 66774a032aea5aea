// What a deploy asks of the proxy on one host: start it, add a candidate that gets no traffic,
// wait until the proxy sees it healthy, switch, drain, remove. Every runtime change is followed by
// re-rendering haproxy.cfg from the live state, so a restart loads exactly what was running.
import type Docker from 'dockerode';
import { imageId, pulledImageId, pullImage } from '../docker/images.js';
import { isNotFound } from '../docker/errors.js';
import { combinedLogText } from '../docker/logs.js';
import type { Config } from '../config/schema.js';
import { GangwayError, messageOf, operationError } from '../errors.js';
import type { Events } from '../events/events.js';
import type { Host } from '../hosts/host.js';
import { readConfigCommand, removeSocketCommand, writeConfigCommand } from './config-file.js';
import { proxyContainerSpec, type ProxyContainerOptions } from './container.js';
import { parseProxyIdentity, proxyIdentityCommand, type ProxyIdentity } from './identity.js';
import { hostSocketPath, PROXY_CONTAINER_NAME, PROXY_HOST_DIR, PROXY_LABEL, PROXY_UID } from './paths.js';
import { explainingLines } from './log-excerpt.js';
import { needsReload, parseRenderedServers, renderHaproxyConfig } from './render.js';
import { RuntimeApi } from './runtime-api.js';
import * as cmd from './runtime-commands.js';
import { describeCheck, isHealthy, liveServers, parseServersState, parseStat } from './runtime-parse.js';
import { backendName, READY_WEIGHT, type LiveServer, type ProxyHealthcheck, type ProxyServer, type ProxyState } from './types.js';

export const DEFAULT_APP_NETWORK = 'gangway';

/** One service's proxy on one host, and where its pieces live there. */
export interface ProxyTarget {
  host: Host;
  service: string;
  appPort: number;
  healthcheck: ProxyHealthcheck;
  /** The app network the proxy shares with app containers (default `gangway`). */
  network?: string;
  containerName?: string;
  hostDir?: string;
  events?: Events;
  runtimeTimeoutMs?: number;
  /** Poll interval of the waits. */
  pollMs?: number;
}

export function proxyTargetFromConfig(host: Host, config: Config, events?: Events): ProxyTarget {
  return {
    host,
    service: config.service,
    appPort: config.proxy.app_port,
    healthcheck: { path: config.proxy.healthcheck.path, intervalMs: config.proxy.healthcheck.interval, timeoutMs: config.proxy.healthcheck.timeout },
    events,
  };
}

const dirOf = (t: ProxyTarget) => t.hostDir ?? PROXY_HOST_DIR;
const networkOf = (t: ProxyTarget) => t.network ?? DEFAULT_APP_NETWORK;
const backendOf = (t: ProxyTarget) => backendName(t.service);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function runtimeApi(t: ProxyTarget): RuntimeApi {
  return new RuntimeApi(() => t.host.openUnixSocket(hostSocketPath(dirOf(t))), { hostName: t.host.name, timeoutMs: t.runtimeTimeoutMs });
}

function fail(t: ProxyTarget, message: string, extra: { hint?: string; details?: string[]; cause?: unknown } = {}): GangwayError {
  return operationError(message, { host: t.host.name, step: 'proxy', ...extra });
}

// ---- reading -------------------------------------------------------------------------------

/** The backend's servers as the running proxy sees them: admin state, health, sessions. */
export async function readState(t: ProxyTarget): Promise<LiveServer[]> {
  const api = runtimeApi(t);
  const state = parseServersState(await api.run(cmd.showServersState()));
  const stats = parseStat(await api.run(cmd.showStat()));
  return liveServers(backendOf(t), state, stats);
}

async function findServer(t: ProxyTarget, name: string): Promise<LiveServer | undefined> {
  return (await readState(t)).find((s) => s.name === name);
}

/**
 * What the file should hold for these live servers. A server in maint is on its way out (gangway
 * puts servers in maint only to remove them), so it is left out: one that HAProxy would not
 * delete (see removeServer) is then gone at the proxy's next start.
 */
export function proxyStateOf(t: ProxyTarget, servers: ReadonlyArray<Pick<LiveServer, 'name' | 'address' | 'port' | 'state'>>): ProxyState {
  return {
    service: t.service,
    appPort: t.appPort,
    healthcheck: t.healthcheck,
    servers: servers.filter((s) => s.state !== 'maint').map(({ name, address, port, state }) => ({ name, address, port, state })),
  };
}

export async function readConfigFile(t: ProxyTarget): Promise<string | undefined> {
  const c = readConfigCommand(dirOf(t));
  const r = await t.host.exec(c.command);
  if (r.code === 3) return undefined;
  if (r.code !== 0) throw fail(t, `cannot read the proxy config: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Before a proxy (re)starts: the socket of one that no longer runs (see removeSocketCommand). */
async function removeDeadSocket(t: ProxyTarget): Promise<void> {
  const r = await t.host.exec(removeSocketCommand(dirOf(t)).command);
  if (r.code !== 0) throw fail(t, `cannot remove the stopped proxy's admin socket: ${r.stderr.trim()}`);
}

async function writeConfigFile(t: ProxyTarget, text: string): Promise<void> {
  const c = writeConfigCommand(text, dirOf(t));
  const r = await t.host.exec(c.command, { stdin: c.stdin });
  if (r.code !== 0) throw fail(t, `cannot write the proxy config: ${r.stderr.trim()}`);
}

/** Re-renders haproxy.cfg from the live runtime state; returns the text written. */
export async function syncConfig(t: ProxyTarget): Promise<string> {
  const text = renderHaproxyConfig(proxyStateOf(t, await readState(t)));
  await writeConfigFile(t, text);
  return text;
}

/** True when the file on the host is what the live state renders to (for verify/status). */
export async function configInSync(t: ProxyTarget): Promise<boolean> {
  const [file, live] = await Promise.all([readConfigFile(t), readState(t)]);
  return file === renderHaproxyConfig(proxyStateOf(t, live));
}

// ---- the proxy container -------------------------------------------------------------------

export interface EnsureProxyOptions extends Omit<ProxyContainerOptions, 'network' | 'containerName' | 'hostDir' | 'uid' | 'gid'> {
  /** How long to wait for the runtime API to answer after a start or reload. */
  readyTimeoutMs?: number;
  /** The uid HAProxy runs as (default PROXY_UID); its group is read on the host. */
  uid?: number;
}

/** The uid the proxy runs as and the host's docker group; refuses a uid a host account has. */
export async function readProxyIdentity(t: ProxyTarget, uid: number = PROXY_UID): Promise<ProxyIdentity> {
  const r = await t.host.exec(proxyIdentityCommand(uid).command);
  if (r.code !== 0) throw fail(t, `cannot read the proxy's user and group on ${t.host.name}: ${r.stderr.trim() || `exit ${r.code}`}`);
  const answer = parseProxyIdentity(r.stdout, uid);
  if (!answer.ok) throw fail(t, `the proxy cannot run unprivileged on ${t.host.name}: ${answer.reason}`, { hint: answer.hint });
  return answer.identity;
}

export interface EnsureProxyResult {
  containerId: string;
  action: 'created' | 'recreated' | 'started' | 'reloaded' | 'file-repaired' | 'unchanged';
}

/**
 * Brings the host's proxy to the wanted image, ports and settings without losing its routes:
 * the servers come from the live runtime when it answers, else from the file gangway wrote.
 * Settings changes on a running, otherwise current proxy are applied with a seamless reload
 * (SIGUSR2 to the master), not a restart.
 */
export async function ensureProxy(t: ProxyTarget, opts: EnsureProxyOptions): Promise<EnsureProxyResult> {
  const started = Date.now();
  t.events?.step('proxy', 'start', { host: t.host.name, message: `ensure ${opts.image}` });
  const docker = await t.host.docker();
  await ensureNetwork(docker, networkOf(t), opts.labels);
  const [imageId, identity] = await Promise.all([ensureImagePresent(t, docker, opts.image), readProxyIdentity(t, opts.uid)]);
  const spec = proxyContainerSpec({ ...opts, ...identity, network: networkOf(t), containerName: t.containerName, hostDir: t.hostDir });
  const name = spec.name ?? PROXY_CONTAINER_NAME;
  const existing = await inspectOrUndefined(docker.getContainer(name));
  const running = existing?.State.Running === true;

  const servers = await serversToKeep(t, running);
  const wanted = renderHaproxyConfig(proxyStateOf(t, servers));
  const current = existing?.Config.Labels?.[PROXY_LABEL.spec] === spec.Labels?.[PROXY_LABEL.spec] && existing?.Image === imageId;

  let action: EnsureProxyResult['action'];
  let containerId: string;
  if (existing && current) {
    containerId = existing.Id;
    const file = await readConfigFile(t);
    if (!running) {
      await removeDeadSocket(t);
      await writeConfigFile(t, wanted);
      await docker.getContainer(existing.Id).start();
      await waitRuntimeReady(t, docker, existing.Id, opts.readyTimeoutMs);
      action = 'started';
    } else if (file !== wanted && (file === undefined || needsReload(file, wanted))) {
      // Settings changed (health check path, interval...): only a new worker reads them.
      const before = await workerPid(t);
      await writeConfigFile(t, wanted);
      await docker.getContainer(existing.Id).kill({ signal: 'SIGUSR2' });
      await waitRuntimeReady(t, docker, existing.Id, opts.readyTimeoutMs, before);
      action = 'reloaded';
    } else if (file !== wanted) {
      // Only the servers differ (a run killed between a runtime change and its file write): the
      // running proxy is the truth, so the file is brought to it. A reload would cost keep-alive
      // connections and change nothing that serves.
      await writeConfigFile(t, wanted);
      t.events?.log('haproxy.cfg differed from the running proxy\'s servers; rewritten from the runtime state (no reload)', { level: 'warn', host: t.host.name, step: 'proxy' });
      action = 'file-repaired';
    } else {
      action = 'unchanged';
    }
  } else {
    if (existing) await docker.getContainer(existing.Id).remove({ force: true });
    await removeDeadSocket(t);
    await writeConfigFile(t, wanted);
    const created = await docker.createContainer(spec);
    await created.start();
    await waitRuntimeReady(t, docker, created.id, opts.readyTimeoutMs);
    containerId = created.id;
    action = existing ? 'recreated' : 'created';
  }
  await reconcileAddresses(t);
  t.events?.step('proxy', 'done', { host: t.host.name, message: `${name} ${action}`, durationMs: Date.now() - started });
  return { containerId, action };
}

/**
 * Points every server whose container now has another address on the app network at it. A server
 * added at runtime holds the IP it was added with (HAProxy 2.6 cannot resolve names for those),
 * and an app container that restarted by itself can come back on another address, which another
 * container may then take. Run by ensureProxy, so every setup and deploy repairs such a route.
 */
export async function reconcileAddresses(t: ProxyTarget): Promise<string[]> {
  const docker = await t.host.docker();
  const moved: string[] = [];
  for (const server of await readState(t)) {
    if (server.state === 'maint') continue;
    const info = await inspectOrUndefined(docker.getContainer(server.name));
    const ip = info?.State.Running ? addressOn(info, networkOf(t)) : undefined;
    if (!ip || ip === server.address) continue;
    await runtimeApi(t).run(cmd.setServerAddr(backendOf(t), server.name, ip, server.port));
    moved.push(`${server.name} ${server.address || '(no address)'} -> ${ip}`);
  }
  if (moved.length > 0) t.events?.log(`proxy routes followed containers that moved: ${moved.join(', ')}`, { level: 'warn', host: t.host.name, step: 'proxy' });
  return moved;
}

/** Stops and removes the proxy container (config directory left in place). */
export async function removeProxy(t: ProxyTarget): Promise<void> {
  const docker = await t.host.docker();
  const c = docker.getContainer(t.containerName ?? PROXY_CONTAINER_NAME);
  await c.remove({ force: true }).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });
}

async function serversToKeep(t: ProxyTarget, running: boolean): Promise<ProxyServer[]> {
  if (running) {
    try {
      return proxyStateOf(t, await readState(t)).servers;
    } catch {
      // A running container whose socket does not answer: fall back to the file.
    }
  }
  const file = await readConfigFile(t);
  return file === undefined ? [] : parseRenderedServers(file);
}

/** The app network on this engine, created (labelled gangway's) when missing; shared with setup and deploy. */
export async function ensureNetwork(docker: Docker, network: string, labels: Record<string, string> = {}): Promise<void> {
  const found = await inspectOrUndefined(docker.getNetwork(network));
  if (found) return;
  await docker.createNetwork({ Name: network, Driver: 'bridge', CheckDuplicate: true, Labels: { ...labels, 'gangway.managed': 'network' } }).catch((err: { statusCode?: number }) => {
    // Another process created it between our check and our create.
    if (err.statusCode !== 409) throw err;
  });
}

async function ensureImagePresent(t: ProxyTarget, docker: Docker, image: string): Promise<string> {
  const found = await imageId(docker, image);
  if (found) return found;
  try {
    await pullImage(docker, image);
    return await pulledImageId(docker, image);
  } catch (err) {
    throw fail(t, `the proxy image ${image} is not on ${t.host.name} and cannot be pulled: ${messageOf(err)}`, {
      hint: 'set proxy.image to an image the host can pull, or build one locally (see `gangway sandbox`)',
      cause: err,
    });
  }
}

async function inspectOrUndefined<T>(thing: { inspect(): Promise<T> }): Promise<T | undefined> {
  try {
    return await thing.inspect();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function workerPid(t: ProxyTarget): Promise<string | undefined> {
  try {
    return /^Pid: (\d+)$/m.exec(await runtimeApi(t).send(cmd.showInfo().line))?.[1];
  } catch {
    return undefined;
  }
}

/** Until the runtime API answers (from a new worker, when `previousPid` is given). */
async function waitRuntimeReady(t: ProxyTarget, docker: Docker, containerId: string, timeoutMs = 20_000, previousPid?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const pid = await workerPid(t);
      if (pid !== undefined && pid !== previousPid) return;
      last = pid === undefined ? 'no answer' : `still the old worker (pid ${pid})`;
    } catch (err) {
      last = messageOf(err);
    }
    const info = await inspectOrUndefined(docker.getContainer(containerId));
    if (info && !info.State.Running && !info.State.Restarting) {
      last = `container exited with code ${info.State.ExitCode}`;
      break;
    }
    await sleep(100);
  }
  const explaining = explainingLines(await logTail(docker, containerId));
  throw fail(t, `the proxy did not come up on ${t.host.name}: ${last}`, { details: explaining.length > 0 ? ['the proxy said:', ...explaining.map((l) => `  ${l}`)] : [] });
}

async function logTail(docker: Docker, containerId: string, lines = 200): Promise<string[]> {
  try {
    const buf = (await docker.getContainer(containerId).logs({ stdout: true, stderr: true, tail: lines })) as unknown as Buffer;
    return combinedLogText(buf).split('\n').filter((l) => l.trim() !== '');
  } catch {
    return [];
  }
}

// ---- servers -------------------------------------------------------------------------------

/** The container's IP on the app network, asked from the host's Docker engine. */
/** A container's IP on a network, undefined when it has none there (stopped, or not attached). */
const addressOn = (info: Docker.ContainerInspectInfo, network: string): string | undefined => info.NetworkSettings.Networks?.[network]?.IPAddress || undefined;

export async function containerAddress(t: ProxyTarget, containerName: string): Promise<string> {
  const docker = await t.host.docker();
  const info = await inspectOrUndefined(docker.getContainer(containerName));
  if (!info) throw fail(t, `container ${containerName} does not exist on ${t.host.name}`);
  const ip = addressOn(info, networkOf(t));
  if (!ip) throw fail(t, `container ${containerName} has no address on network ${networkOf(t)}`, { hint: 'is it running, and attached to the app network?' });
  return ip;
}

export interface CandidateServer {
  /** Container name; also the server name in the proxy. */
  name: string;
  /** Defaults to the container's IP on the app network. */
  address?: string;
  /** Defaults to the target's appPort. */
  port?: number;
}

/**
 * Adds a server that receives no user traffic (drain, weight 0) but is health-checked, so its
 * health is observed from the proxy's side before anyone is switched to it. A leftover server of
 * the same name from an interrupted deploy is replaced unless it is serving traffic; one HAProxy
 * will not delete (loaded from the file, so resolved by name) is reused, pointed at the container.
 */
export async function addCandidate(t: ProxyTarget, server: CandidateServer): Promise<void> {
  const be = backendOf(t);
  const api = runtimeApi(t);
  const address = server.address ?? (await containerAddress(t, server.name));
  const port = server.port ?? t.appPort;
  const existing = await findServer(t, server.name);
  if (existing?.state === 'ready') throw fail(t, `server ${server.name} is already live in the proxy on ${t.host.name}`);
  const kept = existing ? (await removeServer(t, server.name)) === 'kept' : false;
  t.events?.step('proxy add', 'start', { host: t.host.name, message: `${server.name} ${address}:${port}${kept ? ' (reusing its server)' : ''}` });
  if (kept) {
    await api.run(cmd.setServerAddr(be, server.name, address, port));
    await api.run(cmd.setServerWeight(be, server.name, 0));
  } else {
    await api.run(cmd.addServer({ backend: be, name: server.name, address, port, healthcheck: t.healthcheck }));
  }
  await api.run(cmd.enableHealth(be, server.name));
  await api.run(cmd.setServerState(be, server.name, 'drain'));
  await syncConfig(t);
  t.events?.step('proxy add', 'done', { host: t.host.name, message: `${server.name} (no traffic yet)` });
}

/** Until a real health check passes from the proxy; fails with the last check's result. */
export async function waitHealthy(t: ProxyTarget, name: string, timeoutMs: number): Promise<LiveServer> {
  const deadline = Date.now() + timeoutMs;
  let last: LiveServer | undefined;
  for (;;) {
    last = await findServer(t, name);
    if (!last) throw fail(t, `server ${name} is not in the proxy on ${t.host.name}`);
    if (isHealthy(last)) return last;
    if (Date.now() >= deadline) break;
    await sleep(Math.min(t.pollMs ?? 200, Math.max(0, deadline - Date.now())));
  }
  throw fail(t, `${name} is not healthy on ${t.host.name} after ${timeoutMs} ms: ${describeCheck(last)}`, {
    hint: `the proxy checks GET ${t.healthcheck.path} on port ${last.port} and expects 200`,
  });
}

/**
 * New server ready first, old ones drained after: there is no instant without a ready server.
 * `oldServers` defaults to every other ready server of the backend.
 */
export async function switchTo(t: ProxyTarget, newServer: string, oldServers?: string[]): Promise<void> {
  const be = backendOf(t);
  const api = runtimeApi(t);
  const live = await readState(t);
  const target = live.find((s) => s.name === newServer);
  if (!target) throw fail(t, `server ${newServer} is not in the proxy on ${t.host.name}`);
  // Held: the server that served until a moment ago (an undo switching back), never stopped;
  // HAProxy counts it up. Anything else must have passed a real check.
  if (!isHealthy(target) && target.health !== 'held') throw fail(t, `refusing to switch to ${newServer} on ${t.host.name}: ${describeCheck(target)}`);
  const olds = oldServers ?? live.filter((s) => s.name !== newServer && s.state === 'ready').map((s) => s.name);
  t.events?.step('proxy switch', 'start', { host: t.host.name, message: `${olds.join(', ') || '(none)'} -> ${newServer}` });
  // Weight first: a server read back from the file as drain has weight 0, and ready alone would
  // leave it without traffic.
  await api.run(cmd.setServerWeight(be, newServer, READY_WEIGHT));
  // Held before it takes traffic: from here on it is the server that serves, and a slow host must
  // not make the proxy take it out (see holdChecks).
  if (target.health !== 'held') await api.run(cmd.disableHealth(be, newServer));
  await api.run(cmd.setServerState(be, newServer, 'ready'));
  for (const old of olds) {
    if (old === newServer || !live.some((s) => s.name === old)) continue;
    await api.run(cmd.setServerState(be, old, 'drain'));
  }
  await syncConfig(t);
  t.events?.step('proxy switch', 'done', { host: t.host.name, message: newServer });
}

/**
 * Stops the active check of every server that carries traffic and is up (`disable health`: HAProxy
 * then counts it up whatever a check would say) and returns their names. A backend has one server
 * that serves; a check can only take it out, never send its traffic elsewhere, so on a host made
 * slow (by a deploy's own container starts, uptests and stops, or anything else) three missed
 * checks turned slow answers into 503s (measured). Checks gate candidates; once a server serves it
 * is held, as kamal-proxy treats its live target. A server that is already down stays down
 * (HAProxy does not raise it), so a dead server is never made to look alive.
 */
export async function holdChecks(t: ProxyTarget): Promise<string[]> {
  const be = backendOf(t);
  const api = runtimeApi(t);
  const held: string[] = [];
  for (const s of await readState(t)) {
    if (s.state !== 'ready' || s.health !== 'up') continue;
    await api.run(cmd.disableHealth(be, s.name));
    held.push(s.name);
  }
  return held;
}

export interface DrainResult {
  drained: boolean;
  /** Sessions still open when the wait ended. */
  sessions: number;
  waitedMs: number;
}

/** Until the server has zero sessions, or the timeout; not an error either way (drain_timeout). */
export async function waitDrained(t: ProxyTarget, name: string, timeoutMs: number): Promise<DrainResult> {
  const started = Date.now();
  for (;;) {
    const s = await findServer(t, name);
    const sessions = s?.sessions ?? 0;
    if (sessions === 0) return { drained: true, sessions: 0, waitedMs: Date.now() - started };
    if (Date.now() - started >= timeoutMs) {
      t.events?.log(`${name} still has ${sessions} open session${sessions === 1 ? '' : 's'} after drain_timeout (${timeoutMs} ms): stopping it cuts ${sessions === 1 ? 'it' : 'them'}`, { level: 'warn', host: t.host.name, step: 'drain' });
      return { drained: false, sessions, waitedMs: Date.now() - started };
    }
    await sleep(t.pollMs ?? 200);
  }
}

/**
 * maint, then `del server`. HAProxy refuses the delete while connections are attached, so it is
 * retried for a while; a server that is already gone counts as removed. A server loaded from the
 * file (resolved by name) cannot be deleted at runtime in HAProxy 2.6: it is `kept` in maint, out
 * of the file, without traffic or checks, and gone at the proxy's next start.
 */
export async function removeServer(t: ProxyTarget, name: string, timeoutMs = 10_000): Promise<'removed' | 'kept'> {
  const be = backendOf(t);
  const api = runtimeApi(t);
  if (!(await findServer(t, name))) {
    await syncConfig(t);
    return 'removed';
  }
  await api.run(cmd.setServerState(be, name, 'maint'));
  const deadline = Date.now() + timeoutMs;
  let outcome: 'removed' | 'kept' = 'removed';
  for (;;) {
    const reply = await api.send(cmd.delServer(be, name).line);
    if (reply.startsWith('Server deleted.') || reply.startsWith('No such server')) break;
    if (reply.startsWith(cmd.NOT_REMOVABLE_REPLY)) {
      outcome = 'kept';
      break;
    }
    if (Date.now() >= deadline) throw fail(t, `HAProxy would not delete ${name} on ${t.host.name}: ${reply.trim()}`);
    await sleep(t.pollMs ?? 200);
  }
  await syncConfig(t);
  t.events?.step('proxy remove', 'done', { host: t.host.name, message: outcome === 'kept' ? `${name} (in maintenance until the proxy restarts)` : name });
  return outcome;
}
