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
  if (lines.length > 0) t.events?.log(`proxy routes followed containers that moved: ${lines.join(', ')}`, { level: 'warn', host: t.host.name, step: 'proxy' });
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
