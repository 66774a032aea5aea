// What each host runs now, per role: the live version, where the proxy sends traffic, health and
// the retained versions. Read-only; shared by `status`, `rollback` and the end of a deploy.
import type { ResolvedRole } from '../config/resolve.js';
import type { Host } from '../hosts/host.js';
import type { LiveServer } from '../proxy/types.js';
import type { AppContainer } from '../state/labels.js';
import { observeHost } from './observe.js';
import { liveVersionOf, type ObservedHost } from './plan.js';
import { proxyTarget, type Session } from '../fleet/session.js';

export interface RoleStatus {
  host: string;
  role: string;
  liveVersion?: string;
  /** Ready server(s) in the host's proxy (proxied roles). */
  proxyTargets: string[];
  /** up/down/checking for proxied roles (the proxy's check), else the container's state. */
  health: string;
  runningVersions: string[];
  retainedVersions: string[];
}

export function roleStatus(observed: ObservedHost, role: ResolvedRole): RoleStatus {
  const mine = observed.containers.filter((c) => c.role === role.name);
  const live = liveVersionOf(observed, role);
  const ready: LiveServer[] = (observed.proxyServers ?? []).filter((s) => s.state === 'ready');
  const liveContainer = mine.find((c) => c.version === live && c.running);
  const liveServer = ready.find((s) => s.name === liveContainer?.name);
  const health = role.proxied
    ? liveServer ? routeHealth(liveServer, liveContainer) : observed.proxyServers ? 'no route' : 'no proxy'
    : liveContainer ? liveContainer.state : 'not running';
  const byNewest = [...mine].sort((a, b) => b.deployedAt.getTime() - a.deployedAt.getTime());
  return {
    host: observed.host,
    role: role.name,
    ...(live !== undefined ? { liveVersion: live } : {}),
    proxyTargets: ready.map((s) => s.name),
    health,
    runningVersions: byNewest.filter((c) => c.running).map((c) => c.version),
    retainedVersions: byNewest.filter((c) => !c.running).map((c) => c.version),
  };
}

/**
 * The proxy's health of the live server, unless its address is not the container's: then the
 * proxy checks (and routes to) whatever holds that address now, and its health says nothing.
 */
function routeHealth(server: LiveServer, container: AppContainer | undefined): string {
  const ips = Object.values(container?.addresses ?? {});
  if (ips.length === 0 || ips.includes(server.address)) return server.health === 'held' ? 'serving (passed its checks before the switch)' : server.health;
  return `stale route: the proxy sends to ${server.address || '(no address)'}, ${container!.name} is at ${ips.join(', ')} (gangway deploy or setup repairs it)`;
}

export async function observeForStatus(s: Session, host: Host): Promise<ObservedHost> {
  const proxied = s.loaded.roles.some((r) => r.proxied && r.hosts.includes(host.name));
  return observeHost(host, s.deployment, proxied ? proxyTarget(s, host) : undefined);
}

/**
 * The version to roll back to: the newest retained (stopped) version of the primary role on the
 * primary host that is not live now.
 */
export function previousVersion(observed: ObservedHost, role: ResolvedRole): string | undefined {
  const live = liveVersionOf(observed, role);
  return observed.containers
    .filter((c) => c.role === role.name && c.version !== live)
    .sort((a, b) => b.deployedAt.getTime() - a.deployedAt.getTime())[0]?.version;
}
