// Where app containers are on the app network, and the proxy's routes kept pointing there.
import type Docker from 'dockerode';
import { isNotFound } from '../docker/errors.js';
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

/**
 * Points every server whose container now has another address on the app network at it. A server
 * added at runtime holds the IP it was added with (HAProxy 2.6 cannot resolve names for those),
 * and an app container that restarted by itself can come back on another address, which another
 * container may then take. Run by ensureProxy, so every setup and deploy repairs such a route.
 */
export async function reconcileAddresses(t: ProxyTarget): Promise<string[]> {
  const moved: string[] = [];
  for (const m of await movedServers(t)) {
    await runtimeApi(t).run(cmd.setServerAddr(m.backend, m.name, m.ip, m.port));
    moved.push(`${m.name} ${m.address || '(no address)'} -> ${m.ip}`);
  }
  if (moved.length > 0) t.events?.log(`proxy routes followed containers that moved: ${moved.join(', ')}`, { level: 'warn', host: t.host.name, step: 'proxy' });
  return moved;
}

/** Read only: this target's servers whose running container has another address now. */
export async function movedServers(t: ProxyTarget): Promise<Array<{ backend: string; name: string; address: string; ip: string; port: number }>> {
  const docker = await t.host.docker();
  const { backend, servers } = await readSlot(t);
  if (backend === undefined) return [];
  const moved = [];
  for (const server of servers) {
    if (server.state === 'maint') continue;
    const info = await inspectOrUndefined(docker.getContainer(server.name));
    const ip = info?.State.Running ? addressOn(info, networkOf(t)) : undefined;
    if (ip && ip !== server.address) moved.push({ backend, name: server.name, address: server.address, ip, port: server.port });
  }
  return moved;
}
