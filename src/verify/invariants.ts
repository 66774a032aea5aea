// Built-in invariants, checked on every verify without being declared: what a finished deploy
// leaves on a host. `observeInvariants` reads Docker and the proxy (its own round trips);
// `judgeInvariants` is pure.
//   proxy-route          the proxy routes only to running, healthy containers of the live version
//   one-live-version     exactly one version of each role runs on each of its hosts
//   unknown-containers   nothing runs that gangway did not deploy as live: app containers of the
//                        service with another version or a role not placed on this host, and
//                        containers WITHOUT any gangway label on gangway's app network (containers
//                        labelled by gangway for other services, accessories or the proxy are known)
//   retain               stopped versions of each role <= retain
// (Secret env files 0600 travels in the host's script: see ./resources/env-files.ts.)
import type Docker from 'dockerode';
import { findContainers } from '../app/container.js';
import type { ResolvedRole } from '../config/resolve.js';
import { liveVersionOf, type ObservedHost } from '../deploy/plan.js';
import { messageOf } from '../errors.js';
import type { Host } from '../hosts/host.js';
import { readServers } from '../proxy/live-servers.js';
import { DEFAULT_APP_NETWORK, type ProxyTarget } from '../proxy/target.js';
import type { LiveServer } from '../proxy/types.js';
import type { Deployment } from '../state/deployment.js';
import { LABEL } from '../state/labels.js';
import { expectation } from '../checks/resources/resource.js';
import { resultFrom } from './evaluate.js';
import { BUILT_IN_ORIGIN, type CheckResult, type Expectation, type PlannedCheck } from '../checks/types.js';

export interface NetworkContainer {
  name: string;
  labels: Record<string, string>;
}

export interface InvariantObservation extends ObservedHost {
  /** Why the proxy could not be read, when it is expected and did not answer. */
  proxyError?: string;
  /** Running containers attached to the app network. */
  networkContainers: NetworkContainer[];
}

export interface InvariantContext {
  service: string;
  /** The roles placed on this host. */
  roles: ResolvedRole[];
  retain: number;
  network?: string;
}

/** Another destination's containers on the host are not this deployment's: they are neither counted nor strays. */
export async function observeInvariants(host: Host, d: Deployment, proxy: ProxyTarget | undefined, network = DEFAULT_APP_NETWORK): Promise<InvariantObservation> {
  const docker: Docker = await host.docker();
  const [containers, proxyRead, onNetwork] = await Promise.all([
    findContainers(host, d),
    proxy ? readServers(proxy).then((s) => ({ s }), (err: unknown) => ({ err: messageOf(err) })) : Promise.resolve(undefined),
    docker.listContainers({ filters: { network: [network] } }).catch(() => []),
  ]);
  return {
    host: host.name,
    containers,
    ...(proxyRead && 's' in proxyRead ? { proxyServers: proxyRead.s } : {}),
    ...(proxyRead && 'err' in proxyRead ? { proxyError: proxyRead.err } : {}),
    networkContainers: onNetwork.map((c) => ({ name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''), labels: c.Labels ?? {} })),
  };
}

const invariant = (subject: string, role?: string): PlannedCheck => ({
  type: 'invariant',
  subject,
  spec: {},
  origin: BUILT_IN_ORIGIN,
  title: role ? `${subject} (${role})` : subject,
  ...(role ? { role } : {}),
});

function proxyRoute(o: InvariantObservation, role: ResolvedRole, network: string): Expectation[] {
  if (!o.proxyServers) return [expectation('proxy', 'answers on its runtime API', o.proxyError ? `no answer (${o.proxyError})` : 'no proxy', false)];
  const live = liveVersionOf(o, role);
  const ready: LiveServer[] = o.proxyServers.filter((s) => s.state === 'ready');
  const out = [expectation('ready servers', 'at least one', ready.length ? ready.map((s) => s.name).join(', ') : 'none (nothing is routed)', ready.length > 0)];
  for (const server of ready) {
    const c = o.containers.find((x) => x.name === server.name);
    const where = `server ${server.name}`;
    if (!c) {
      out.push(expectation(where, 'a container of the service', 'no such container', false));
      continue;
    }
    out.push(expectation(`${where} container`, 'running', c.state, c.running));
    out.push(expectation(`${where} version`, `the live version ${live ?? '(none)'}`, c.version, c.version === live && c.role === role.name));
    // A serving server is held (no active check: it passed its checks before the switch; see
    // holdChecks), or up by a check (a proxy restarted since loads its servers checked).
    const health = `${server.health}${server.checkDescription ? ` (${server.checkDescription})` : ''}`;
    out.push(expectation(`${where} health`, 'up or held', health, server.health === 'up' || server.health === 'held'));
    const ip = c.addresses?.[network];
    if (ip) out.push(expectation(`${where} address`, ip, server.address, server.address === ip));
  }
  return out;
}

export function judgeInvariants(o: InvariantObservation, ctx: InvariantContext): CheckResult[] {
  const results: CheckResult[] = [];
  const roleNames = new Set(ctx.roles.map((r) => r.name));
  const strays: string[] = [];
  for (const role of ctx.roles) {
    const running = o.containers.filter((c) => c.role === role.name && c.running);
    const live = liveVersionOf(o, role);
    if (role.proxied) results.push(resultFrom(o.host, invariant('proxy-route', role.name), proxyRoute(o, role, ctx.network ?? DEFAULT_APP_NETWORK)));
    const versions = [...new Set(running.map((c) => c.version))];
    results.push(resultFrom(o.host, invariant('one-live-version', role.name), [
      expectation('running versions', 'exactly one', versions.length ? versions.join(', ') : 'none', versions.length === 1),
    ]));
    for (const c of running) if (c.version !== live) strays.push(`${c.name} (version ${c.version}, live is ${live ?? 'none'})`);
    const stopped = new Set(o.containers.filter((c) => c.role === role.name && !c.running && c.version !== live).map((c) => c.version));
    results.push(resultFrom(o.host, invariant('retain', role.name), [
      expectation('retained versions', `at most ${ctx.retain}`, `${stopped.size}${stopped.size ? ` (${[...stopped].join(', ')})` : ''}`, stopped.size <= ctx.retain),
    ]));
  }
  for (const c of o.containers) if (c.running && !roleNames.has(c.role)) strays.push(`${c.name} (role ${c.role} is not placed on ${o.host})`);
  for (const c of o.networkContainers) {
    if (!Object.keys(c.labels).some((k) => k === LABEL.managed || k === LABEL.service)) strays.push(`${c.name} (no gangway labels, on network ${ctx.network ?? DEFAULT_APP_NETWORK})`);
  }
  results.push(resultFrom(o.host, invariant('unknown-containers'), [
    expectation('running containers of unknown versions', 'none', strays.length ? strays.join('; ') : 'none', strays.length === 0),
  ]));
  return results;
}
