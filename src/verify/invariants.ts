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
//   proxy-routes-owned   every slot of the host's shared proxy serves only its owner's containers,
//                        every route leads to an owned slot (all services: ./route-ownership.ts)
// (Secret env files 0600 travels in the host's script: see ./resources/env-files.ts.)
import type Docker from 'dockerode';
import type { ResolvedRole } from '../config/resolve.js';
import { liveVersionOf, type ObservedHost } from '../deploy/plan.js';
import { messageOf } from '../errors.js';
import type { Host } from '../hosts/host.js';
import { readLiveLayout } from '../proxy/live-layout.js';
import { serversOfLive } from '../proxy/live-servers.js';
import { DEFAULT_APP_NETWORK, type ProxyTarget } from '../proxy/target.js';
import type { LiveServer } from '../proxy/types.js';
import type { Deployment } from '../state/deployment.js';
import { appContainersOf, LABEL, MANAGED_APP, parseAppContainers, type AppContainer } from '../state/labels.js';
import { expectation } from '../checks/resources/resource.js';
import { resultFrom } from './evaluate.js';
import { judgeRouteOwnership, viewOfLive, type OwnershipView } from './route-ownership.js';
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
  /** The whole proxy (every service's slots and routes), when it answered. */
  proxyView?: OwnershipView;
  /** App containers of EVERY service and destination on the host, running or not. */
  hostContainers?: AppContainer[];
}

export interface InvariantContext {
  service: string;
  /** The roles placed on this host. */
  roles: ResolvedRole[];
  retain: number;
  network?: string;
}

/** This target's servers and the whole layout, from ONE read of the proxy (readServers' lookup). */
async function readProxy(t: ProxyTarget): Promise<{ servers: LiveServer[]; view: OwnershipView }> {
  const live = await readLiveLayout(t);
  return { servers: await serversOfLive(t, live), view: viewOfLive(live, t.service) };
}

/**
 * Another destination's containers on the host are not this deployment's: they are neither counted
 * nor strays. Every service's app containers come from one listing (proxy-routes-owned needs them
 * all); this deployment's are picked out of it as findContainers does.
 */
export async function observeInvariants(host: Host, d: Deployment, proxy: ProxyTarget | undefined, network = DEFAULT_APP_NETWORK): Promise<InvariantObservation> {
  const docker: Docker = await host.docker();
  const [apps, proxyRead, onNetwork] = await Promise.all([
    docker.listContainers({ all: true, filters: { label: [`${LABEL.managed}=${MANAGED_APP}`] } }),
    proxy ? readProxy(proxy).then((r) => ({ r }), (err: unknown) => ({ err: messageOf(err) })) : Promise.resolve(undefined),
    docker.listContainers({ filters: { network: [network] } }).catch(() => []),
  ]);
  return {
    host: host.name,
    containers: appContainersOf(apps, d),
    hostContainers: parseAppContainers(apps),
    ...(proxyRead && 'r' in proxyRead ? { proxyServers: proxyRead.r.servers, proxyView: proxyRead.r.view } : {}),
    ...(proxyRead && 'err' in proxyRead ? { proxyError: proxyRead.err } : {}),
    networkContainers: onNetwork.map((c) => ({ name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''), labels: c.Labels ?? {} })),
  };
}

export const invariant = (subject: string, role?: string): PlannedCheck => ({
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

/** One per proxied host: the proxy is shared, so every service's slots are judged, not only ours. */
function routesOwned(o: InvariantObservation, network: string): Expectation[] {
  if (!o.proxyView) return [expectation('proxy', 'answers on its runtime API', o.proxyError ? `no answer (${o.proxyError})` : 'no proxy', false)];
  return judgeRouteOwnership(o.proxyView, o.hostContainers ?? o.containers, network);
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
  if (ctx.roles.some((r) => r.proxied)) results.push(resultFrom(o.host, invariant('proxy-routes-owned'), routesOwned(o, ctx.network ?? DEFAULT_APP_NETWORK)));
  return results;
}
