// What a deploy changes in the running proxy through its runtime API: add a candidate that gets no
// traffic, switch to it, hold the checks of what serves, remove a server. Each change is followed
// by a file sync (see file-sync.ts).
import { containerAddress } from './addresses.js';
import { syncConfig } from './file-sync.js';
import { readAllServers } from './live-layout.js';
import { readBackend, readSlot } from './live-servers.js';
import * as cmd from './runtime-commands.js';
import { describeCheck, isHealthy } from './runtime-parse.js';
import { proxyError, runtimeApi, type ProxyTarget } from './target.js';
import { READY_WEIGHT, type LiveServer } from './types.js';
import { pause } from './waits.js';

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
 * Returns once the server is in the proxy's file too.
 */
export async function addCandidate(t: ProxyTarget, server: CandidateServer, opts: { onChecking?: () => void } = {}): Promise<void> {
  const { fileSync } = await addCandidateBeforeSync(t, server, opts);
  await fileSync;
}

/**
 * addCandidate, returning as soon as the proxy checks the server: the wait for its health need
 * not wait for the file's round trips to a host that is busy starting the container. The caller
 * must await `fileSync` before the switch.
 */
export async function addCandidateBeforeSync(t: ProxyTarget, server: CandidateServer, opts: { onChecking?: () => void } = {}): Promise<{ fileSync: Promise<void> }> {
  const [{ backend: be, servers }, address] = await Promise.all([readBackend(t), server.address ?? containerAddress(t, server.name)]);
  const api = runtimeApi(t);
  const port = server.port ?? t.appPort;
  const existing = servers.find((s) => s.name === server.name);
  if (existing?.state === 'ready') throw proxyError(t, `server ${server.name} is already live in the proxy on ${t.host.name}`);
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
  // The proxy checks it from here on; the file follows (a round trip or three to the host).
  opts.onChecking?.();
  const fileSync = syncConfig(t).then(() => {
    t.events?.step('proxy add', 'done', { host: t.host.name, message: `${server.name} (no traffic yet)` });
  });
  // Not yet awaited by the caller: a failure here must not count as unhandled meanwhile.
  fileSync.catch(() => {});
  return { fileSync };
}

/**
 * New server ready first, old ones drained after: there is no instant without a ready server.
 * `oldServers` defaults to every other ready server of the backend.
 */
export async function switchTo(t: ProxyTarget, newServer: string, oldServers?: string[]): Promise<void> {
  const { backend: be, servers: live } = await readBackend(t);
  const api = runtimeApi(t);
  const target = live.find((s) => s.name === newServer);
  if (!target) throw proxyError(t, `server ${newServer} is not in the proxy on ${t.host.name}`);
  // Held: the server that served until a moment ago (an undo switching back), never stopped;
  // HAProxy counts it up. Anything else must have passed a real check.
  if (!isHealthy(target) && target.health !== 'held') throw proxyError(t, `refusing to switch to ${newServer} on ${t.host.name}: ${describeCheck(target)}`);
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
 *
 * Every backend of the proxy, not only this target's: one service's deploy slows the host for all
 * of them, and a server another service's reload or the proxy's restart loaded from the file is
 * checked again (measured: alpha's servers, checked again after beta's first deploy reloaded the
 * proxy, went down and answered 503 during beta's next deploy on a loaded host).
 */
export async function holdChecks(t: ProxyTarget, read?: Map<string, LiveServer[]>): Promise<string[]> {
  const api = runtimeApi(t);
  const held: string[] = [];
  // `read`: every backend's servers as the caller just read them under its lock (the claim check).
  for (const [backend, servers] of read ?? (await readAllServers(t))) {
    for (const s of servers) {
      if (s.state !== 'ready' || s.health !== 'up') continue;
      await api.run(cmd.disableHealth(backend, s.name));
      held.push(s.name);
    }
  }
  return held;
}

/**
 * maint, then `del server`. HAProxy refuses the delete while connections are attached, so it is
 * retried for a while; a server that is already gone counts as removed. A server loaded from the
 * file (resolved by name) cannot be deleted at runtime in HAProxy 2.6: it is `kept` in maint, out
 * of the file, without traffic or checks, and gone at the proxy's next start.
 */
export async function removeServer(t: ProxyTarget, name: string, timeoutMs = 10_000): Promise<'removed' | 'kept'> {
  const outcome = await removeServerAtRuntime(t, name, timeoutMs);
  await syncConfig(t);
  return outcome;
}

/**
 * removeServer without the file sync, for a caller that syncs the file while it does other work
 * (a deploy's end: the old container's stop needs the server out of the runtime, not the file).
 */
export async function removeServerAtRuntime(t: ProxyTarget, name: string, timeoutMs = 10_000): Promise<'removed' | 'kept'> {
  const api = runtimeApi(t);
  const { backend: be, servers } = await readSlot(t);
  if (be === undefined || !servers.some((s) => s.name === name)) return 'removed';
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
    if (Date.now() >= deadline) throw proxyError(t, `HAProxy would not delete ${name} on ${t.host.name}: ${reply.trim()}`);
    await pause(t.pollMs ?? 200);
  }
  t.events?.step('proxy remove', 'done', { host: t.host.name, message: outcome === 'kept' ? `${name} (in maintenance until the proxy restarts)` : name });
  return outcome;
}

/** A canary split: what each server of the backend weighs (see src/canary/plan.ts). */
export interface TrafficSplit {
  canary: { name: string; weight: number };
  baseline: { name: string; weight: number }[];
}

/**
 * The canary takes its share beside the old servers, both ready. The old ones are weighed down
 * first, then the canary weighed up and made ready: a weight change only steers new requests, so
 * none in flight is touched. The canary keeps its active check (unlike a switched server): a
 * canary that dies is taken out by the proxy, its traffic back on the old version.
 */
export async function splitTraffic(t: ProxyTarget, split: TrafficSplit): Promise<void> {
  const { backend: be, servers: live } = await readBackend(t);
  const api = runtimeApi(t);
  const canary = live.find((s) => s.name === split.canary.name);
  if (!canary) throw proxyError(t, `server ${split.canary.name} is not in the proxy on ${t.host.name}`);
  if (canary.state !== 'ready' && !isHealthy(canary)) throw proxyError(t, `refusing to send traffic to ${canary.name} on ${t.host.name}: ${describeCheck(canary)}`);
  for (const old of split.baseline) {
    if (!live.some((s) => s.name === old.name)) continue;
    await api.run(cmd.setServerWeight(be, old.name, old.weight));
    await api.run(cmd.setServerState(be, old.name, 'ready'));
  }
  await api.run(cmd.setServerWeight(be, canary.name, split.canary.weight));
  await api.run(cmd.setServerState(be, canary.name, 'ready'));
  await syncConfig(t);
  t.events?.step('proxy split', 'done', { host: t.host.name, message: `${canary.name} weight ${split.canary.weight}, ${split.baseline.map((o) => `${o.name} weight ${o.weight}`).join(', ') || '(no old server)'}` });
}

/**
 * A canary undone: the old servers take their full weight back first, then the canary is drained
 * (the requests it has finish; it gets no new ones). Safe to repeat.
 */
export async function returnTraffic(t: ProxyTarget, canaryName: string, baseline: string[]): Promise<void> {
  const { backend: be, servers: live } = await readBackend(t);
  const api = runtimeApi(t);
  for (const old of baseline) {
    if (!live.some((s) => s.name === old)) continue;
    await api.run(cmd.setServerWeight(be, old, READY_WEIGHT));
    await api.run(cmd.setServerState(be, old, 'ready'));
  }
  if (live.some((s) => s.name === canaryName)) await api.run(cmd.setServerState(be, canaryName, 'drain'));
  await syncConfig(t);
  t.events?.step('proxy split', 'done', { host: t.host.name, message: `${baseline.join(', ') || '(no old server)'} back to all the traffic; ${canaryName} drained` });
}
