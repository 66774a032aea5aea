// The proxy-routes-owned invariant: on a host's shared proxy, every slot serves only containers of
// the (service, destination) that owns it, and every route and the catch-all lead to an owned
// slot. proxy-route looks at the verified service's own slot only; a slot of ANOTHER service
// that points at this service's containers (or the reverse) would send one service's users to
// another's app, and no per-service check would see it. So this one judges the whole layout,
// whatever service is being verified. Pure: invariants.ts reads the proxy and the containers.
import { describeRouteKey, ownerOf, type ProxyLayout } from '../proxy/layout.js';
import type { LiveLayout } from '../proxy/live-layout.js';
import { legacyBackendName } from '../proxy/types.js';
import type { AppContainer } from '../state/labels.js';
import { expectation } from '../checks/resources/resource.js';
import type { Expectation } from '../checks/types.js';

/** What the invariant needs of a proxy: slots with their owners and servers, routes, catch-all. */
export interface OwnershipView {
  slots: Array<{ backend: string; owner?: string; servers: Array<{ name: string; address: string }> }>;
  routes: Array<{ key: string; backend: string }>;
  catchAll?: string;
}

export function viewOfLayout(layout: ProxyLayout): OwnershipView {
  return {
    slots: layout.slots.map((s) => ({ backend: s.backend, ...(s.settings ? { owner: s.settings.owner } : {}), servers: s.servers })),
    routes: layout.routes,
    ...(layout.catchAll !== undefined ? { catchAll: layout.catchAll } : {}),
  };
}

/**
 * A proxy still on the single-service layout has one backend, `be_<service>`, which serves every
 * name: its servers must be the service's. Servers in maint are left out as layoutFrom does (no
 * traffic; gangway puts servers in maint only to remove them).
 */
export function viewOfLive(live: LiveLayout, service: string): OwnershipView {
  if (live.kind === 'shared') return viewOfLayout(live.layout);
  const backend = legacyBackendName(service);
  const servers = (live.servers.get(backend) ?? []).filter((s) => s.state !== 'maint');
  return { slots: [{ backend, owner: service, servers }], routes: [], catchAll: backend };
}

const ownerOfContainer = (c: AppContainer): string => ownerOf(c.service, c.destination);

/**
 * Fails for each route or catch-all that leads to a slot with no owner, and for each server of an
 * owned slot whose name is a container of another owner or whose address is another owner's
 * container's IP on the app network (a server is named after its container, and `set server
 * addr` can move it without renaming it, so both are compared). A server naming no known
 * container is proxy-route's business for the verified service, not this invariant's. Servers of
 * a slot with no owner are not judged: no route reaches them (a route that does is a failure).
 */
export function judgeRouteOwnership(view: OwnershipView, containers: AppContainer[], network: string): Expectation[] {
  const out: Expectation[] = [];
  const owners = new Map(view.slots.map((s) => [s.backend, s.owner]));
  const pointers = [
    ...view.routes.map((r) => ({ what: `route ${describeRouteKey(r.key)}`, backend: r.backend })),
    ...(view.catchAll !== undefined ? [{ what: 'the catch-all', backend: view.catchAll }] : []),
  ];
  for (const p of pointers) {
    if (owners.get(p.backend) === undefined) out.push(expectation(p.what, 'a slot with an owner', `${p.backend}, which has no owner`, false));
  }
  const byName = new Map(containers.map((c) => [c.name, c]));
  // Only running containers have an address; two of them never share one on a network.
  const byAddress = new Map(containers.flatMap((c) => (c.running && c.addresses?.[network] ? [[c.addresses[network]!, c] as const] : [])));
  let judged = 0;
  for (const slot of view.slots) {
    if (slot.owner === undefined) continue;
    for (const server of slot.servers) {
      judged++;
      const where = `${slot.backend} (owner ${slot.owner}) server ${server.name}`;
      const named = byName.get(server.name);
      if (named && ownerOfContainer(named) !== slot.owner) {
        out.push(expectation(where, `a container of ${slot.owner}`, `container ${named.name} of ${ownerOfContainer(named)}`, false));
      }
      const at = server.address ? byAddress.get(server.address) : undefined;
      if (at && at !== named && ownerOfContainer(at) !== slot.owner) {
        out.push(expectation(where, `an address of a container of ${slot.owner}`, `${server.address}, the address of container ${at.name} of ${ownerOfContainer(at)}`, false));
      }
    }
  }
  if (out.length === 0) {
    const owned = view.slots.filter((s) => s.owner !== undefined).length;
    out.push(expectation('servers of every slot', "containers of the slot's owner", `${judged} server(s) in ${owned} owned slot(s), ${pointers.length} route(s) to owned slots`, true));
  }
  return out;
}
