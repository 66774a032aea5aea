// Reads what a host runs now: the deployment's app containers (by label) and its proxy's servers.
import { findContainers } from '../app/container.js';
import type { Host } from '../hosts/host.js';
import { readServers } from '../proxy/live-servers.js';
import type { ProxyTarget } from '../proxy/target.js';
import type { Deployment } from '../state/deployment.js';
import type { ObservedHost } from './plan.js';

/** `proxy` is given for hosts of proxied roles; a proxy that does not answer reads as absent. */
export async function observeHost(host: Host, d: Deployment, proxy?: ProxyTarget): Promise<ObservedHost> {
  const [containers, proxyServers] = await Promise.all([
    findContainers(host, d),
    proxy ? readServers(proxy).catch(() => undefined) : Promise.resolve(undefined),
  ]);
  return { host: host.name, containers, ...(proxyServers ? { proxyServers } : {}) };
}

/** Every host at once; a host that does not answer fails the whole read (the deploy stops there). */
export async function observeAll(hosts: Map<string, Host>, d: Deployment, proxies: Map<string, ProxyTarget>): Promise<Map<string, ObservedHost>> {
  const entries = await Promise.all(
    [...hosts.values()].map(async (h) => [h.name, await observeHost(h, d, proxies.get(h.name))] as const),
  );
  return new Map(entries);
}
