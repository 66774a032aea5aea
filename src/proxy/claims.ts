// Who may answer which requests on a shared proxy, decided before anything changes: a
// (service, destination) claims Host names (with an optional path prefix), or the catch-all, and
// a backend slot. Pure: the caller reads the host's live layout, this says yes (and what the
// layout becomes) or no (naming both sides), and the executor applies the difference.
import {
  CATCH_ALL_KEY, MAP_FILES, describeRouteKey, encodeSettings, routeKey, slotOfOwner,
  type MapKind, type ProxyLayout, type SlotSettings,
} from './layout.js';

export interface RouteClaim {
  settings: SlotSettings;
  /** Host names this owner answers; empty = the catch-all. */
  hosts: string[];
  pathPrefix?: string;
}

export type ClaimDecision =
  | { ok: true; backend: string; layout: ProxyLayout }
  | { ok: false; conflicts: string[] };

/** Who else holds what this claim wants; "(no owner)" for a route left to a freed slot. */
export function decideClaim(layout: ProxyLayout, claim: RouteClaim, hostName: string): ClaimDecision {
  const owner = claim.settings.owner;
  const ownerAt = (backend: string) => layout.slots.find((s) => s.backend === backend)?.settings?.owner;
  const conflicts: string[] = [];
  const keys = [...new Set(claim.hosts.map((h) => routeKey(h, claim.pathPrefix)))];
  for (const key of keys) {
    const other = layout.routes.find((r) => r.key === key && ownerAt(r.backend) !== undefined && ownerAt(r.backend) !== owner);
    if (other) conflicts.push(`${describeRouteKey(key)} on ${hostName} is claimed by both ${owner} (this deploy) and ${ownerAt(other.backend)} (already on the proxy)`);
  }
  const catchAllOwner = layout.catchAll !== undefined ? ownerAt(layout.catchAll) : undefined;
  if (keys.length === 0 && catchAllOwner !== undefined && catchAllOwner !== owner) {
    conflicts.push(`${owner} (this deploy, no proxy.hosts) and ${catchAllOwner} (already on the proxy) would both be the catch-all on ${hostName}; give one of them proxy.hosts`);
  }
  if (conflicts.length > 0) return { ok: false, conflicts };

  const slot = slotOfOwner(layout, owner) ?? layout.slots.find((s) => s.settings === undefined && s.servers.length === 0);
  if (!slot) return { ok: false, conflicts: [`every backend slot of the proxy on ${hostName} is taken (${layout.slots.length}); remove a service from this host first`] };
  const backend = slot.backend;
  const routes = [
    // This owner's other routes go (a host name it no longer declares), and so do routes to its
    // slot under a key it now claims again (re-added below).
    ...layout.routes.filter((r) => r.backend !== backend && !keys.includes(r.key)),
    ...keys.map((key) => ({ key, backend })),
  ];
  const catchAll = keys.length === 0 ? backend : layout.catchAll === backend ? undefined : layout.catchAll;
  return {
    ok: true,
    backend,
    layout: {
      slots: layout.slots.map((s) => (s.backend === backend ? { ...s, settings: claim.settings } : s)),
      routes,
      ...(catchAll !== undefined ? { catchAll } : {}),
    },
  };
}

/**
 * What taking an owner off a proxy makes of its layout, in the two steps `gangway remove` takes:
 * `routes` drops every route to the owner's slot and the catch-all if it held it (no new request
 * reaches it; its servers then drain), `slot` frees the slot itself (settings gone, servers
 * assumed deleted), so a later claim can take it. Undefined: the owner holds no slot here.
 */
export function withdrawClaim(layout: ProxyLayout, owner: string, step: 'routes' | 'slot'): ProxyLayout | undefined {
  const slot = slotOfOwner(layout, owner);
  if (!slot) return undefined;
  const routes = layout.routes.filter((r) => r.backend !== slot.backend);
  const catchAll = layout.catchAll === slot.backend ? undefined : layout.catchAll;
  const slots = step === 'routes' ? layout.slots : layout.slots.map((s) => (s.backend === slot.backend ? { backend: s.backend, servers: [] } : s));
  return { slots, routes, ...(catchAll !== undefined ? { catchAll } : {}) };
}

/** A proxied role of a service, as the config places it. */
export interface ProxiedRole {
  role: string;
  hosts: string[];
}

/** Two proxied roles of one service on one host would share one slot and one set of routes. */
export function proxiedRoleConflicts(service: string, roles: ProxiedRole[]): string[] {
  const seen = new Map<string, string>();
  const conflicts: string[] = [];
  for (const r of roles) {
    for (const h of r.hosts) {
      const first = seen.get(h);
      if (first !== undefined) conflicts.push(`${h} runs two proxied roles of ${service} (${first} and ${r.role}); one proxy route per service and host: put one of them on another host or set proxy: false on it`);
      else seen.set(h, r.role);
    }
  }
  return conflicts;
}

/** Each map file's entries as HAProxy holds them (key -> value). */
export type MapContents = Record<MapKind, Map<string, string>>;

export function mapContents(layout: ProxyLayout): MapContents {
  return {
    slots: new Map(layout.slots.flatMap((s) => (s.settings ? [[s.backend, encodeSettings(s.settings)] as [string, string]] : []))),
    routes: new Map(layout.routes.map((r) => [r.key, r.backend])),
    catchAll: new Map(layout.catchAll !== undefined ? [[CATCH_ALL_KEY, layout.catchAll]] : []),
  };
}

export interface MapChange {
  kind: MapKind;
  op: 'add' | 'set' | 'del';
  key: string;
  value?: string;
}

/**
 * What turns the live maps into the wanted ones. Order matters to traffic: a slot's settings
 * first (its checks read them), then new and changed routes, the removals last, so a name moved
 * to another slot is never without a route in between.
 */
export function mapChanges(before: MapContents, after: MapContents): MapChange[] {
  const kinds: MapKind[] = ['slots', 'routes', 'catchAll'];
  const upserts: MapChange[] = [];
  const removals: MapChange[] = [];
  for (const kind of kinds) {
    for (const [key, value] of after[kind]) {
      const had = before[kind].get(key);
      if (had === undefined) upserts.push({ kind, op: 'add', key, value });
      else if (had !== value) upserts.push({ kind, op: 'set', key, value });
    }
    for (const key of before[kind].keys()) if (!after[kind].has(key)) removals.push({ kind, op: 'del', key });
  }
  return [...upserts, ...removals];
}

/** The map file's name, for messages and commands. */
export const mapFileOf = (kind: MapKind): string => MAP_FILES[kind];
