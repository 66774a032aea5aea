// What the running proxy reports about this target's backend (its slot on a shared proxy): admin
// state (ready, drain, maint), health and sessions, and about itself (its version), read through
// the runtime API.
import { backendOfLive, readLiveLayout, type LiveLayout } from './live-layout.js';
import { parseServerCounters, parseSlowCounts, withSlowCounts, type ServerCounters } from './counters.js';
import * as cmd from './runtime-commands.js';
import { parseShowInfo, type ProxyVersion } from './runtime-parse.js';
import { proxyError, runtimeApi, type ProxyTarget } from './target.js';
import type { LiveServer } from './types.js';

/** The backend's servers as the running proxy sees them; none while the service has no slot here. */
export async function readServers(t: ProxyTarget): Promise<LiveServer[]> {
  return (await readSlot(t)).servers;
}

/** This target's servers in a layout already read (none while it has no slot there). */
export async function serversOfLive(t: ProxyTarget, live: LiveLayout): Promise<LiveServer[]> {
  const backend = await backendOfLive(t, live);
  return backend === undefined ? [] : (live.servers.get(backend) ?? []);
}

export async function findServer(t: ProxyTarget, name: string): Promise<LiveServer | undefined> {
  return (await readServers(t)).find((s) => s.name === name);
}

/** The backend a runtime change of this target goes to; one that has none was never prepared here. */
export async function requireBackend(t: ProxyTarget): Promise<string> {
  return (await readBackend(t)).backend;
}

/** The backend a change goes to and its servers, from one reading (one round trip). */
export async function readBackend(t: ProxyTarget): Promise<{ backend: string; servers: LiveServer[] }> {
  const { backend, servers } = await readSlot(t);
  if (backend === undefined) throw proxyError(t, `${t.service} has no backend on the proxy on ${t.host.name}`, { hint: 'a deploy or setup (ensureProxy) gives it one' });
  return { backend, servers };
}

/** This target's backend (undefined while it has none here) and its servers, from one reading. */
export async function readSlot(t: ProxyTarget): Promise<{ backend: string | undefined; servers: LiveServer[] }> {
  const live = await readLiveLayout(t);
  const backend = await backendOfLive(t, live);
  return { backend, servers: backend === undefined ? [] : (live.servers.get(backend) ?? []) };
}

/** Which HAProxy the target's proxy runs (its `show info`). */
export async function readProxyVersion(t: ProxyTarget): Promise<ProxyVersion> {
  return parseShowInfo(await runtimeApi(t).run(cmd.showInfo()));
}

/**
 * This target's servers' traffic counters (none while it has no backend here); with `slow`, their
 * slow responses too (a proxy whose file predates the count has no table, and fails clearly). With
 * `slowBoundMs`, the bound over which responses count as slow is set first: a process variable
 * that a reload or restart forgets, so the canary sets it again at every poll. One reading of the
 * layout, the bound, then `show stat` and `show table` in one round trip.
 */
export async function readCounters(t: ProxyTarget, opts: { slow?: boolean; slowBoundMs?: number } = {}): Promise<ServerCounters[]> {
  const setsBound = opts.slowBoundMs !== undefined;
  // Setting the bound needs the backend, as every runtime change does (readBackend says why not).
  const backend = setsBound ? (await readBackend(t)).backend : await backendOfLive(t);
  if (backend === undefined) return [];
  const api = runtimeApi(t);
  if (setsBound) await api.run(cmd.setSlowBound(backend, opts.slowBoundMs!));
  if (!opts.slow && !setsBound) return parseServerCounters(await api.run(cmd.showStat()), backend);
  const [stat, table] = await api.runBatch([cmd.showStat(), cmd.showTable(backend)]);
  return withSlowCounts(parseServerCounters(stat!, backend), parseSlowCounts(table!));
}
