// Reads what a host runs now: the service's app containers (by label) and its proxy's servers.
import { findContainers } from '../app/container.js';
import type { Host } from '../hosts/host.js';
import { readServers } from '../proxy/live-servers.js';
import type { ProxyTarget } from '../proxy/target.js';
import type { ObservedHost } from './plan.js';

/** `proxy` is given for hosts of proxied roles; a proxy that does not answer reads as absent. */
export async function observeHost(host: Host, service: string, proxy?: ProxyTarget): Promise<ObservedHost> {
  const [containers, proxyServers] = await Promise.all([
    findContainers(host, service),
    proxy ? readServers(proxy).catch(() => undefined) : Promise.resolve(undefined),
  ]);
  return { host: host.name, containers, ...(proxyServers ? { proxyServers } : {}) };
}
