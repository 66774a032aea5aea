// Where app containers are on the app network, and the proxy's routes kept pointing there.
import type Docker from 'dockerode';
import { isNotFound } from '../docker/errors.js';
import { sleep } from '../sleep.js';
import { readSlot } from './live-servers.js';
import * as cmd from './runtime-commands.js';
import { networkOf, proxyError, runtimeApi, type ProxyTarget } from './target.js';

/** A container's IP on a network, undefined when it has none there (stopped, or not attached). */
export const addressOn = (info: Docker.ContainerInspectInfo, network: string): string | undefined => info.NetworkSettings.Networks?.[network]?.IPAddress || undefined;

/** The inspected thing, or undefined when the engine says it does not exist (404). */
export async function inspectOrUndefined<T>(thing: { inspect(): Promise<T> }): Promise<T | undefined> {
  try {
    return await thing.inspect();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The container's IP on the app network, asked from the host's Docker engine. */
export async function containerAddress(t: ProxyTarget, containerName: string): Promise<string> {
  const docker = await t.host.docker();
  const info = await inspectOrUndefined(docker.getContainer(containerName));
  if (!info) throw proxyError(t, `container ${containerName} does not exist on ${t.host.name}`);
  const ip = addressOn(info, networkOf(t));
  if (!ip) throw proxyError(t, `container ${containerName} has no address on network ${networkOf(t)}`, { hint: 'is it running, and attached to the app network?' });
  return ip;
}

/** A route that no longer leads where its server's name says. */
export interface RouteDrift {
  /** Servers whose running container has another address now. */
  moved: Array<{ backend: string; name: string; address: string; ip: string; port: number }>;
  /** Servers (not in maintenance) whose container no longer exists on the host. */
  gone: Array<{ backend: string; name: string }>;
}

/**
 * Points every moved server at its container's address now. A server added at runtime holds the
 * IP it was added with (HAProxy 2.6 cannot resolve names for those), and an app container that
 * restarted by itself can come back on another address, which another container may then take.
 * Run by ensureProxy, so every setup and deploy repairs such a route.
 */
export async function followMoved(t: ProxyTarget, moved: RouteDrift['moved']): Promise<void> {
  const lines: string[] = [];
  for (const m of moved) {
    await runtimeApi(t).run(cmd.setServerAddr(m.backend, m.name, m.ip, m.port));
    lines.push(`${m.name} ${m.address || '(no address)'} -> ${m.ip}`);
  }
  if (lines.length === 0) return;
  await untilAddressesShown(t, moved);
  t.events?.log(`proxy routes followed containers that moved: ${lines.join(', ')}`, { level: 'warn', host: t.host.name, step: 'proxy' });
}

/** How long a changed address may take to show in the proxy's own reading of its servers. */
const ADDRESS_SHOWN_MS = 2_000;

/**
 * HAProxy can answer "IP changed" before `show servers state` shows the new address (seen on a
 * loaded machine, 1 run in 6 of the moved-container test, and once in CI on 3.0: a reading right
 * after the answer still had the old address, the next one the new). What reads the live state
 * next (a file sync, proxyUpToDate, the caller) must see the route it was given, so this waits,
 * bounded, and fails naming the servers if the proxy never shows it.
 */
async function untilAddressesShown(t: ProxyTarget, moved: RouteDrift['moved']): Promise<void> {
  const deadline = Date.now() + ADDRESS_SHOWN_MS;
  let pending = moved;
  for (;;) {
    const { servers } = await readSlot(t);
    pending = pending.filter((m) => servers.find((s) => s.name === m.name)?.address !== m.ip);
    if (pending.length === 0) return;
    if (Date.now() >= deadline) break;
    await sleep(50);
  }
  const still = pending.map((m) => `${m.name} (wanted ${m.ip})`).join(', ');
  throw proxyError(t, `the proxy on ${t.host.name} accepted new addresses but still did not show them after ${ADDRESS_SHOWN_MS / 1000} s: ${still}`);
}

/** Read only: this target's servers whose container moved or is gone. */
export async function routeDrift(t: ProxyTarget): Promise<RouteDrift> {
  const docker = await t.host.docker();
  const { backend, servers } = await readSlot(t);
  const drift: RouteDrift = { moved: [], gone: [] };
  if (backend === undefined) return drift;
  for (const server of servers) {
    if (server.state === 'maint') continue;
    const info = await inspectOrUndefined(docker.getContainer(server.name));
    if (!info) {
      drift.gone.push({ backend, name: server.name });
      continue;
    }
    const ip = info.State.Running ? addressOn(info, networkOf(t)) : undefined;
    if (ip && ip !== server.address) drift.moved.push({ backend, name: server.name, address: server.address, ip, port: server.port });
  }
  return drift;
}
