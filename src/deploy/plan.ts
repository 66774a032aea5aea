// Pure planning: config + what the hosts run now -> which containers each (host, role) starts
// and retires, in which batches. `--dry-run` prints this plan; the runner executes it.
import type { ResolvedRole } from '../config/resolve.js';
import type { LiveServer } from '../proxy/types.js';
import type { Deployment } from '../state/deployment.js';
import { containerName, type AppContainer } from '../state/labels.js';
import type { DeployTarget } from './phases.js';

/** What one host runs now, as read from its engine and its proxy. */
export interface ObservedHost {
  host: string;
  containers: AppContainer[];
  /** The service's servers in this host's proxy; undefined when the host has no proxy. */
  proxyServers?: LiveServer[];
}

export type BootLimit = { count: number } | { percent: number };

/** Splits a role's hosts into batches of at most `limit` hosts (a percentage rounds up, min 1). */
export function bootBatches(hosts: string[], limit: BootLimit): string[][] {
  const size = 'count' in limit ? limit.count : Math.ceil((hosts.length * limit.percent) / 100);
  const per = Math.max(1, Math.min(hosts.length, size));
  const batches: string[][] = [];
  for (let i = 0; i < hosts.length; i += per) batches.push(hosts.slice(i, i + per));
  return batches;
}

/**
 * The version a role serves on a host. Proxied: the container the proxy sends traffic to (a ready
 * server that is a running container of the role). Otherwise: the newest running container.
 */
export function liveVersionOf(observed: ObservedHost, role: ResolvedRole): string | undefined {
  const running = observed.containers.filter((c) => c.role === role.name && c.running);
  if (role.proxied && observed.proxyServers) {
    const ready = new Set(observed.proxyServers.filter((s) => s.state === 'ready').map((s) => s.name));
    const live = running.filter((c) => ready.has(c.name)).sort(newestFirst)[0];
    if (live) return live.version;
  }
  return running.sort(newestFirst)[0]?.version;
}

const newestFirst = (a: AppContainer, b: AppContainer) => b.deployedAt.getTime() - a.deployedAt.getTime();

export interface PlanInput {
  deployment: Deployment;
  version: string;
  roles: ResolvedRole[];
  observed: Map<string, ObservedHost>;
}

export interface DeployPlan {
  version: string;
  /** Every (host, role), primary role first, in config order. */
  targets: DeployTarget[];
  primaryRole: ResolvedRole;
  /** The host whose first healthy container lets the other roles boot. */
  primaryHost: string;
}

export function planDeploy(input: PlanInput): DeployPlan {
  const primaryRole = input.roles.find((r) => r.primary) ?? input.roles[0]!;
  const targets: DeployTarget[] = [];
  for (const role of input.roles) {
    for (const host of role.hosts) {
      const observed = input.observed.get(host) ?? { host, containers: [] };
      const newContainer = containerName(input.deployment, role.name, input.version);
      const running = observed.containers.filter((c) => c.role === role.name && c.running);
      const liveVersion = liveVersionOf(observed, role);
      const oldContainers = running.filter((c) => c.version !== input.version).map((c) => c.name);
      const newRunning = running.some((c) => c.name === newContainer);
      // Proxied: live means the proxy routes to it, which only happens after its gates passed, so
      // a rerun after an interrupted deploy resumes from there (and still retires the old ones).
      // Without a proxy, a running container may never have been gated: live only when alone.
      const alreadyLive = liveVersion === input.version && newRunning && (role.proxied || oldContainers.length === 0);
      targets.push({
        host,
        role: role.name,
        proxied: role.proxied,
        newContainer,
        oldContainers,
        ...(liveVersion !== undefined ? { liveVersion } : {}),
        alreadyLive,
        state: 'pending',
        trail: ['pending'],
      });
    }
  }
  return { version: input.version, targets, primaryRole, primaryHost: primaryRole.hosts[0]! };
}

/** Human lines for --dry-run: what each host will do, from the same plan the runner executes. */
export function describePlan(plan: DeployPlan, opts: { image: string; bootLimit: BootLimit; action?: string }): string[] {
  const lines = [`${opts.action ?? 'deploy'} ${opts.image}:${plan.version}`];
  // Every role boots in batches of the limit, counted over its own hosts.
  const hostsByRole = new Map<string, string[]>();
  for (const t of plan.targets) hostsByRole.set(t.role, [...(hostsByRole.get(t.role) ?? []), t.host]);
  for (const [role, hosts] of hostsByRole) lines.push(`${role}: ${bootBatches(hosts, opts.bootLimit).map((b) => `[${b.join(', ')}]`).join(' then ')}`);
  for (const t of plan.targets) {
    const from = t.liveVersion ? `from ${t.liveVersion}` : 'fresh';
    if (t.alreadyLive) {
      const rest = t.oldContainers.length > 0 ? `drain and stop ${t.oldContainers.join(', ')}` : 'nothing to do';
      lines.push(`[${t.host} ${t.role}] ${t.newContainer} already live: ${rest}`);
      continue;
    }
    const steps = t.proxied
      ? ['pull', `start ${t.newContainer}`, 'add to proxy (no traffic)', 'wait healthy', 'uptests', 'switch proxy', 'drain', `stop ${t.oldContainers.join(', ') || '(nothing)'}`]
      : ['pull', `wait for the first healthy ${plan.primaryRole.name} container on ${plan.primaryHost}`, `start ${t.newContainer}`, 'wait healthy', 'uptests', `stop ${t.oldContainers.join(', ') || '(nothing)'}`];
    lines.push(`[${t.host} ${t.role}] ${from}: ${steps.join(' -> ')}`);
  }
  return lines;
}
