// The shared proxy of one host as data: a fixed pool of backend slots, each either free or owned
// by one (service, destination) with that owner's settings and servers, plus the routes (Host
// name + path prefix -> slot) and the catch-all slot. HAProxy 2.6 cannot add a backend at
// runtime, so the backends exist in the file from the start and a service takes one through the
// maps (see README.md, "Shared proxy"). Pure: no socket, no host.
import { DEFAULT_CHECK_HOST, DEFAULT_CHECK_STATUS, DEFAULT_FALL, DEFAULT_RISE, assertPort, assertSafeName, type ProxyHealthcheck, type ProxyServer } from './types.js';

/** Backends declared in every shared file; a host serves at most this many (service, destination) pairs. */
export const SLOT_COUNT = 16;
export const slotName = (i: number): string => `be_slot_${String(i + 1).padStart(2, '0')}`;
export const SLOT_NAMES: readonly string[] = Array.from({ length: SLOT_COUNT }, (_, i) => slotName(i));
export const isSlotName = (name: string): boolean => SLOT_NAMES.includes(name);

/** Map files, next to haproxy.cfg in the proxy's directory. */
export const MAP_FILES = { slots: 'slots.map', routes: 'routes.map', catchAll: 'default.map' } as const;
export type MapKind = keyof typeof MAP_FILES;
/** The one key of default.map: the catch-all slot is its value. */
export const CATCH_ALL_KEY = '*';

/** What a (service, destination) asks of its slot; every field is on the slot's line of slots.map. */
export interface SlotSettings {
  /** `service` or `service@destination`. */
  owner: string;
  appPort: number;
  healthcheck: ProxyHealthcheck;
  /** Longest a server may take to answer (HAProxy's `timeout server`, per request). */
  responseTimeoutMs: number;
  /** Largest Content-Length accepted (413 above it); 0 = no limit. */
  maxBodyBytes: number;
  /** Whether X-Forwarded-For/-Proto/-Host are set on requests to the app. */
  forwardHeaders: boolean;
  /** Plain HTTP to this slot gets a 308 to https (proxy.ssl with ssl_redirect); absent = no. */
  sslRedirect?: boolean;
  /** The host port the redirect names (proxy.https_port); absent: the standard 443, no port in the Location. */
  redirectPort?: number;
}

export interface ProxySlot {
  backend: string;
  /** Undefined: a free slot. */
  settings?: SlotSettings;
  servers: ProxyServer[];
}

export interface ProxyRoute {
  /** routeKey(host, prefix): what the frontend looks up, longest prefix first. */
  key: string;
  backend: string;
}

export interface ProxyLayout {
  slots: ProxySlot[];
  routes: ProxyRoute[];
  /** The backend that answers every name no route claims. */
  catchAll?: string;
}

/** Pure: the layout without the servers named in `names` (every slot, every service). */
export function withoutServers(layout: ProxyLayout, names: ReadonlySet<string>): ProxyLayout {
  return { ...layout, slots: layout.slots.map((slot) => ({ ...slot, servers: slot.servers.filter((server) => !names.has(server.name)) })) };
}

export const DEFAULT_RESPONSE_TIMEOUT_MS = 60_000;
export const DEFAULT_CHECK_TIMEOUT_MS = 5000;

export const ownerOf = (service: string, destination?: string): string => (destination ? `${service}@${destination}` : service);

/**
 * The fields of a slots.map value, in order. HAProxy reads some of them with `field(n,|)` (the
 * check's path and Host, the response timeout, the body limit, the forward switch), so their
 * positions are part of the rendered file; the others let gangway render the file from the
 * runtime alone. `|` never occurs in a value (validated), nor does a space or `;`, which would
 * end the value or the runtime API command.
 */
const FIELDS = ['owner', 'port', 'path', 'host', 'resp', 'body', 'fwd', 'status', 'inter', 'tcheck', 'rise', 'fall', 'redir'] as const;
/** Values written before `redir` existed have one field fewer: no redirect. */
const FIELDS_BEFORE_TLS = FIELDS.length - 1;
/** A redirect to it names no port (browsers' default for https). */
export const STANDARD_HTTPS_PORT = 443;
export const fieldIndex = (name: (typeof FIELDS)[number]): number => FIELDS.indexOf(name) + 1;
const VALUE_SAFE = /^[^\s|;"'\\#]+$/;

export function encodeSettings(s: SlotSettings): string {
  const hc = s.healthcheck;
  const values = [
    s.owner, s.appPort, hc.path, hc.host ?? DEFAULT_CHECK_HOST, s.responseTimeoutMs, s.maxBodyBytes, s.forwardHeaders ? 'on' : 'off',
    hc.status ?? DEFAULT_CHECK_STATUS, hc.intervalMs, hc.timeoutMs, hc.rise ?? DEFAULT_RISE, hc.fall ?? DEFAULT_FALL, redirValue(s),
  ].map(String);
  for (const v of values) if (!VALUE_SAFE.test(v)) throw new Error(`proxy setting "${v}" cannot go in a map (no spaces, quotes, "|", ";", "#" or "\\")`);
  return values.join('|');
}

/**
 * The `redir` field: `off`, `on` (to the standard port: no port in the Location, as written
 * before the port was kept) or `on:<port>`; render.ts picks the redirect line by its form.
 */
function redirValue(s: Pick<SlotSettings, 'sslRedirect' | 'redirectPort'>): string {
  if (!s.sslRedirect) return 'off';
  return s.redirectPort !== undefined && s.redirectPort !== STANDARD_HTTPS_PORT ? `on:${s.redirectPort}` : 'on';
}

function parseRedir(value: string): Pick<SlotSettings, 'sslRedirect' | 'redirectPort'> | undefined {
  if (value === 'off') return {};
  if (value === 'on') return { sslRedirect: true };
  const m = /^on:(\d{1,5})$/.exec(value);
  const port = Number(m?.[1]);
  return m && port > 0 && port < 65536 ? { sslRedirect: true, redirectPort: port } : undefined;
}

/** The inverse of encodeSettings; undefined for a value gangway did not write. */
export function decodeSettings(value: string): SlotSettings | undefined {
  const f = value.trim().split('|');
  if (f.length === FIELDS_BEFORE_TLS) f.push('off');
  if (f.length !== FIELDS.length) return undefined;
  const at = (name: (typeof FIELDS)[number]) => f[fieldIndex(name) - 1]!;
  const num = (name: (typeof FIELDS)[number]) => Number(at(name));
  const nums = (['port', 'resp', 'body', 'status', 'inter', 'tcheck', 'rise', 'fall'] as const).map(num);
  if (nums.some((n) => !Number.isInteger(n) || n < 0)) return undefined;
  const redirect = parseRedir(at('redir'));
  if (!redirect) return undefined;
  return {
    owner: at('owner'),
    appPort: num('port'),
    healthcheck: { path: at('path'), host: at('host'), status: num('status'), intervalMs: num('inter'), timeoutMs: num('tcheck'), rise: num('rise'), fall: num('fall') },
    responseTimeoutMs: num('resp'),
    maxBodyBytes: num('body'),
    forwardHeaders: at('fwd') === 'on',
    ...redirect,
  };
}

// RFC 1123 labels, lower case (the frontend lowers the Host header before the lookup).
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const PATH_PREFIX = /^(\/[A-Za-z0-9._~!$&'()*+,=:@%-]+)+$/;

/** Why a Host name cannot be routed, or undefined when it can. */
export function hostNameProblem(name: string): string | undefined {
  if (name !== name.toLowerCase()) return `"${name}" must be lower case (Host headers are compared lower-cased)`;
  if (!HOST_NAME.test(name)) return `"${name}" is not a host name (letters, digits and "-" in dot-separated labels, no port)`;
  return undefined;
}

/** Why a path prefix cannot be routed, or undefined: "/api", "/v1/admin"; no trailing "/". */
export function pathPrefixProblem(prefix: string): string | undefined {
  if (!PATH_PREFIX.test(prefix) || prefix.includes("'")) return `"${prefix}" is not a path prefix such as /api (starts with /, no trailing /, no spaces or quotes)`;
  return undefined;
}

/**
 * The key the frontend looks up: the Host header without its port, lower-cased, then the path,
 * then "/". A route's key ends in "/" too, so "/api" claims /api and /api/x, never /apix, and
 * HAProxy's prefix tree (map_beg, measured: `idx=tree`) picks the longest key.
 */
export function routeKey(host: string, prefix?: string): string {
  return `${host}${prefix ?? ''}/`;
}

/** Host and prefix back from a key (for messages). */
export function describeRouteKey(key: string): string {
  const slash = key.indexOf('/');
  const host = key.slice(0, slash);
  const prefix = key.slice(slash, -1);
  return prefix ? `${host}${prefix}` : host;
}

export function assertLayout(layout: ProxyLayout): void {
  const backends = new Set(layout.slots.map((s) => assertSafeName('backend', s.backend)));
  const owners = new Set<string>();
  for (const slot of layout.slots) {
    if (slot.settings) {
      if (owners.has(slot.settings.owner)) throw new Error(`${slot.settings.owner} owns two backend slots`);
      owners.add(slot.settings.owner);
      assertPort(slot.settings.appPort);
    }
    const names = new Set<string>();
    for (const s of slot.servers) {
      if (names.has(s.name)) throw new Error(`server ${s.name} appears twice in ${slot.backend}`);
      names.add(s.name);
    }
  }
  for (const r of layout.routes) if (!backends.has(r.backend)) throw new Error(`route ${r.key} points at ${r.backend}, which is not a slot`);
  if (layout.catchAll !== undefined && !backends.has(layout.catchAll)) throw new Error(`the catch-all ${layout.catchAll} is not a slot`);
}

/** A layout with every slot free and no route: a fresh host. */
export function emptyLayout(): ProxyLayout {
  return { slots: SLOT_NAMES.map((backend) => ({ backend, servers: [] })), routes: [] };
}

export const slotOfOwner = (layout: ProxyLayout, owner: string): ProxySlot | undefined => layout.slots.find((s) => s.settings?.owner === owner);
export const ownerOfBackend = (layout: ProxyLayout, backend: string): string | undefined => layout.slots.find((s) => s.backend === backend)?.settings?.owner;
