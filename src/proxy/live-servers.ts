// What the running proxy reports about the backend's servers (admin state: ready, drain, maint;
// health and sessions) and about itself (its version), read through the runtime API.
import * as cmd from './runtime-commands.js';
import { liveServers, parseServersState, parseShowInfo, parseStat, type ProxyVersion } from './runtime-parse.js';
import { backendOf, runtimeApi, type ProxyTarget } from './target.js';
import type { LiveServer } from './types.js';

/** The backend's servers as the running proxy sees them: admin state, health, sessions. */
export async function readServers(t: ProxyTarget): Promise<LiveServer[]> {
  const api = runtimeApi(t);
  const state = parseServersState(await api.run(cmd.showServersState()));
  const stats = parseStat(await api.run(cmd.showStat()));
  return liveServers(backendOf(t), state, stats);
}

export async function findServer(t: ProxyTarget, name: string): Promise<LiveServer | undefined> {
  return (await readServers(t)).find((s) => s.name === name);
}

/** Which HAProxy the target's proxy runs (its `show info`). */
export async function readProxyVersion(t: ProxyTarget): Promise<ProxyVersion> {
  return parseShowInfo(await runtimeApi(t).run(cmd.showInfo()));
}
