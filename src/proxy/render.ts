// ProxyLayout -> haproxy.cfg text and its map files. Pure: the same state always gives the same bytes, so the file
// on a host can be compared with what the live runtime implies.
import { mapContents } from './claims.js';
import {
  CATCH_ALL_KEY, DEFAULT_CHECK_TIMEOUT_MS, DEFAULT_RESPONSE_TIMEOUT_MS, MAP_FILES, assertLayout, fieldIndex,
  type MapKind, type ProxyLayout, type ProxySlot,
} from './layout.js';
import {
  ACME_BACKEND, ACME_CHALLENGE_PREFIX, ACME_CONTAINER_NAME, ACME_PORT, CLOSING_KEY, containerClosingMapPath, containerCrtListPath, containerSocketPath, PROXY_CONTAINER_DIR,
  PROXY_LISTEN_PORT, PROXY_TLS_PORT,
} from './paths.js';
import {
  assertPort, assertSafeName, DEFAULT_CHECK_STATUS, DEFAULT_FALL, DEFAULT_RISE, READY_WEIGHT,
  type ProxyHealthcheck, type ProxyServer,
} from './types.js';

export const CONFIG_HEADER = '# Rendered by gangway from the live runtime state of this proxy; edits are overwritten.';

/**
 * While a server is down or on its way up (HAProxy's downinter and fastinter), it is checked at
 * most this far apart, whatever the configured interval: a deploy's candidate then counts its
 * `rise` passing checks within a few hundred milliseconds of its first good answer instead of
 * `rise` intervals (measured: 0.93 s from add to healthy at interval 500 ms, rise 2). The number of
 * passing checks is the same; only live servers are checked at the configured interval (and a
 * live server is held: see holdChecks).
 */
export const RISING_CHECK_MS = 100;

/**
 * Check options go on every server line (never through default-server) because servers added at
 * runtime ignore default-server: the file and `add server` must spell out the same settings.
 */
export function serverCheckOptions(hc: ProxyHealthcheck): string {
  const rising = Math.min(hc.intervalMs, RISING_CHECK_MS);
  return `check inter ${hc.intervalMs}ms rise ${hc.rise ?? DEFAULT_RISE} fall ${hc.fall ?? DEFAULT_FALL} fastinter ${rising}ms downinter ${rising}ms`;
}

/** The engine's embedded DNS, which every container on a user-defined network can ask. */
const ENGINE_DNS = '127.0.0.11:53';
const RESOLVERS_NAME = 'engine';

/**
 * How a server of the file finds its container: by name, through the engine's DNS, never by the
 * address it had when the file was written. An engine restart hands addresses out again in the
 * order it restarts containers, so an address in the file can name another container or nothing.
 * `libc` resolves at start (a reload must route at once: `none` alone gave 503s until the first
 * DNS answer); `none` still starts a proxy whose app container is not back yet, and the resolver
 * fills the address within a second of the container's return.
 */
export const SERVER_RESOLVE_OPTIONS = `resolvers ${RESOLVERS_NAME} resolve-prefer ipv4 init-addr libc,none`;

/**
 * The config file has no keyword for "drain", so a draining server is written with weight 0:
 * still health-checked, never picked by the balancer, and read back as drain after a restart.
 * A server in maint is written `disabled`: no traffic and no checks, as at runtime. The address
 * is the container's name (see SERVER_RESOLVE_OPTIONS); the live address is the runtime's.
 */
export function renderServerLine(server: ProxyServer, hc: ProxyHealthcheck): string {
  assertSafeName('server name', server.name);
  assertPort(server.port);
  const weight = server.state === 'ready' ? (server.weight || READY_WEIGHT) : 0;
  const parts = [`server ${server.name} ${server.name}:${server.port}`, serverCheckOptions(hc), `weight ${weight}`, SERVER_RESOLVE_OPTIONS];
  if (server.state === 'maint') parts.push('disabled');
  return parts.join(' ');
}

/**
 * Short holds: a container that stopped is out of rotation within seconds, and one that came
 * back on a new address is reached there within a second.
 */
function resolversLines(): string[] {
  return [
    `resolvers ${RESOLVERS_NAME}`,
    ...[
      `nameserver docker ${ENGINE_DNS}`,
      'resolve_retries 3',
      'timeout resolve 1s',
      'timeout retry 1s',
      'hold valid 10s',
      'hold other 3s',
      'hold refused 3s',
      'hold nx 3s',
      'hold timeout 3s',
      'hold obsolete 3s',
    ].map((l) => `  ${l}`),
  ];
}

const mapPath = (kind: MapKind): string => `${PROXY_CONTAINER_DIR}/${MAP_FILES[kind]}`;
/** A slot's field of slots.map as an HAProxy expression (see layout.ts, encodeSettings). */
const slotField = (backend: string, field: Parameters<typeof fieldIndex>[0]): string => `str(${backend}),map(${mapPath('slots')}),field(${fieldIndex(field)},|)`;

/**
 * Routing by Host and path prefix, through maps the runtime API changes, so adding or moving a
 * service needs no reload: the key is the Host header without its port, lower-cased, then the
 * path and a "/" (layout.ts, routeKey); map_beg keeps its keys in a prefix tree and returns the
 * longest match. No route: the catch-all of default.map; none either: 404 from be_unrouted.
 */
function frontendLines(): string[] {
  return [
    `bind :${PROXY_LISTEN_PORT}`,
    // SNI picks the certificate from the crt-list; its first line is the proxy's self-signed
    // default (HAProxy refuses an ssl bind without one). Routing below is the same for both binds.
    `bind :${PROXY_TLS_PORT} ssl crt-list ${containerCrtListPath} alpn h2,http/1.1`,
    'http-request set-var(txn.gw_path) path',
    'http-request set-var(txn.gw_key) req.hdr(host),field(1,:),lower,concat(,txn.gw_path,/)',
    `http-request set-var(txn.gw_be) var(txn.gw_key),map_beg(${mapPath('routes')})`,
    `http-request set-var(txn.gw_be) str(${CATCH_ALL_KEY}),map_str(${mapPath('catchAll')}) unless { var(txn.gw_be) -m found }`,
    // HTTP-01 challenges, on plain HTTP only, for any Host, before any route; the redirect to
    // https is a slot's (slotLines), so a challenge never meets it.
    `acl gw_acme path_beg ${ACME_CHALLENGE_PREFIX}`,
    `use_backend ${ACME_BACKEND} if gw_acme !{ ssl_fc }`,
    'use_backend %[var(txn.gw_be)] if { var(txn.gw_be) -m found }',
    `default_backend ${UNROUTED_BACKEND}`,
    // Before a reload (seamless-reload.ts): every client connection ends after its next response,
    // so the old worker holds no idle keep-alive connection to close under a client's request.
    `http-after-response set-header Connection close if { str(${CLOSING_KEY}),map(${containerClosingMapPath}) -m found }`,
  ];
}

export const UNROUTED_BACKEND = 'be_unrouted';

/**
 * One slot: what may differ between services is read from its line of slots.map at request or
 * check time (check path and Host, response timeout, body limit, forwarded headers), so a slot
 * changes hands without a reload. Two things HAProxy 2.6 only takes from the file, the expected
 * status and `timeout check`, are written from the owner's settings: a service that needs other
 * values than its slot was started with costs one seamless reload (ensureProxy, needsReload).
 * HTTP/1.1 with a Host header: many apps reject HTTP/1.0 requests without one.
 */
function slotLines(slot: ProxySlot): string[] {
  const b = slot.backend;
  const hc = slot.settings?.healthcheck;
  if (hc && (!hc.path.startsWith('/') || /[\s"'\\|]/.test(hc.path))) throw new Error(`health check path "${hc.path}" must start with / and contain no spaces, quotes or "|"`);
  const status = hc?.status ?? DEFAULT_CHECK_STATUS;
  return [
    `backend ${b}`,
    ...[
      // Runtime `add server` needs an algorithm with dynamic weights; roundrobin is one.
      'balance roundrobin',
      // Before anything else the slot does: a redirected request never reaches the app. To the
      // Host without its port (`redirect scheme` keeps it, measured: https://a.test:8080/ for a
      // proxy on http_port 8080), then the slot's HTTPS port when it is not 443 (`on:<port>`,
      // layout.ts): two lines rather than one Location with a maybe-empty part.
      `http-request redirect location https://%[req.hdr(host),field(1,:)]%[capture.req.uri] code 308 if !{ ssl_fc } { ${slotField(b, 'redir')} -m str on }`,
      `http-request redirect location https://%[req.hdr(host),field(1,:)]:%[${slotField(b, 'redir')},field(2,:)]%[capture.req.uri] code 308 if !{ ssl_fc } { ${slotField(b, 'redir')} -m beg on: }`,
      'option httpchk',
      `http-check send meth GET uri-lf %[${slotField(b, 'path')}] ver HTTP/1.1 hdr Host %[${slotField(b, 'host')}]`,
      `http-check expect status ${status}`,
      `timeout check ${hc?.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS}ms`,
      `http-request set-timeout server ${slotField(b, 'resp')}`,
      `http-request set-var(txn.gw_max_body) ${slotField(b, 'body')}`,
      'http-request deny deny_status 413 if { var(txn.gw_max_body) -m int gt 0 } { req.hdr_val(content-length),sub(txn.gw_max_body) -m int gt 0 }',
      `acl gw_forward ${slotField(b, 'fwd')} -m str on`,
      'http-request set-header X-Forwarded-For %[src] if gw_forward',
      'http-request set-header X-Forwarded-Proto https if gw_forward { ssl_fc }',
      'http-request set-header X-Forwarded-Proto http if gw_forward !{ ssl_fc }',
      'http-request set-header X-Forwarded-Host %[req.hdr(host)] if gw_forward',
      ...slowCountLines(b),
      ...(slot.settings ? slot.servers.map((s) => renderServerLine(s, slot.settings!.healthcheck)) : []),
    ].map((l) => `  ${l}`),
  ];
}

/** The process variable that holds a slot's latency bound (ms); see slowCountLines. */
export const slowBoundVar = (backend: string): string => `proc.gw_slow_${backend}`;

/**
 * The canary's p99 gate, counted by HAProxy: per server (a stick-table keyed by its name), the
 * responses whose headers came more than the slot's bound after the request reached the backend.
 * The bound is a process variable the canary sets at runtime; unset (no canary, or after a
 * reload) the comparison fails and nothing is counted. 2.6 has no res.timer.* fetches, hence
 * the two dates.
 */
function slowCountLines(b: string): string[] {
  return [
    'stick-table type string len 64 size 1k expire 1h store gpc0',
    'http-request set-var(txn.gw_t0) date(0,ms)',
    'http-response set-var(txn.gw_dt) date(0,ms),sub(txn.gw_t0)',
    'http-response track-sc0 srv_name',
    `http-response sc-inc-gpc0(0) if { var(txn.gw_dt),sub(${slowBoundVar(b)}) gt 0 }`,
  ];
}

export function renderHaproxyConfig(layout: ProxyLayout): string {
  assertLayout(layout);
  const indent = (lines: string[]) => lines.map((l) => `  ${l}`);
  return [
    CONFIG_HEADER,
    'global',
    ...indent([
      // Only from inside the host: a unix socket in the bind-mounted directory, never TCP. It is
      // the proxy uid's and the docker group's (HAProxy runs with that group, in a setgid docker
      // directory: see identity.ts and config-file.ts), so a non-root SSH user in the docker
      // group can drive the proxy, and no one else.
      `stats socket ${containerSocketPath} mode 660 level admin expose-fd listeners`,
      'stats timeout 30s',
      // Server up/down transitions reach `docker logs`; per-request lines would flood it.
      'log stdout format raw local0 notice',
      // A reload's old worker finishes its requests, but not forever.
      'hard-stop-after 30s',
    ]),
    '',
    ...resolversLines(),
    '',
    'defaults',
    ...indent([
      'mode http',
      'log global',
      'option dontlognull',
      'option redispatch',
      'retries 3',
      'timeout connect 5s',
      'timeout client 60s',
      // The slot's response timeout replaces it per request (http-request set-timeout server).
      `timeout server ${DEFAULT_RESPONSE_TIMEOUT_MS / 1000}s`,
      'timeout http-request 10s',
      'timeout http-keep-alive 60s',
      'timeout queue 30s',
    ]),
    '',
    'frontend fe_http',
    ...indent(frontendLines()),
    '',
    `backend ${UNROUTED_BACKEND}`,
    '  http-request deny deny_status 404',
    '',
    // The ACME client's container, by name like the app servers; while it does not exist the
    // server has no address and a challenge gets 503. A server-template, not a `server` line: it
    // is no app server, and what reads and compares server lines (needsReload, the parsers) skips it.
    `backend ${ACME_BACKEND}`,
    `  server-template ${ACME_BACKEND} 1 ${ACME_CONTAINER_NAME}:${ACME_PORT} ${SERVER_RESOLVE_OPTIONS}`,
    '',
    ...layout.slots.flatMap((slot) => [...slotLines(slot), '']),
  ].join('\n');
}

/** The map files the file loads, from the layout: what a (re)started proxy routes by. */
export function renderMapFiles(layout: ProxyLayout): Record<MapKind, string> {
  const contents = mapContents(layout);
  const text = (m: Map<string, string>) => [...m].map(([k, v]) => `${k} ${v}\n`).join('');
  return { slots: text(contents.slots), routes: text(contents.routes), catchAll: text(contents.catchAll) };
}

// Files written by earlier gangway versions name an IP instead of the container: both are read.
const SERVER_LINE = /^\s*server\s+(\S+)\s+(\S+):(\d+)\s.*?\bweight\s+(\d+)\b(.*)$/;

/**
 * The inverse of renderServerLine for files gangway wrote itself: lets ensureProxy keep the routes
 * when it has to recreate the container and the runtime cannot be asked. `address` is what the
 * line names (the container name, or an IP in an older file).
 */
export function parseRenderedServers(cfgText: string): ProxyServer[] {
  const servers: ProxyServer[] = [];
  for (const line of cfgText.split('\n')) {
    const m = SERVER_LINE.exec(line);
    if (!m) continue;
    const state = /\sdisabled\b/.test(` ${m[5]}`) ? 'maint' : Number(m[4]) === 0 ? 'drain' : 'ready';
    const weight = Number(m[4]);
    servers.push({ name: m[1]!, address: m[2]!, port: Number(m[3]), state, ...(state === 'ready' && weight !== READY_WEIGHT ? { weight } : {}) });
  }
  return servers;
}

/** Each backend section's lines (after its `backend` line), by backend name. */
export function backendSections(cfgText: string): Map<string, string> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of cfgText.split('\n')) {
    const section = /^(global|defaults|frontend|backend|listen|resolvers|peers|userlist|program|http-errors|cache|ring)\b\s*(\S*)/.exec(line);
    if (section) {
      current = section[1] === 'backend' ? [] : undefined;
      if (current) out.set(section[2]!, current);
      continue;
    }
    current?.push(line);
  }
  return new Map([...out].map(([name, lines]) => [name, lines.join('\n')]));
}

/** Servers of the file per backend section (the shared layout has one backend per slot). */
export function parseRenderedBackends(cfgText: string): Map<string, ProxyServer[]> {
  const out = new Map<string, ProxyServer[]>();
  for (const [name, section] of backendSections(cfgText)) {
    const servers = parseRenderedServers(section);
    if (servers.length > 0) out.set(name, servers);
  }
  return out;
}

const SERVER_LINE_START = /^\s*server\s/;

/**
 * A server line without what differs from server to server (name, address, weight, state): the
 * check and resolve options, which come from the settings.
 */
function serverOptions(line: string): string {
  return line.trim().replace(/^server\s+\S+\s+\S+/, 'server').replace(/\s+weight\s+\d+/, '').replace(/\s+disabled\b/, '');
}

/**
 * Whether going from `current` to `wanted` takes a reload: a setting differs (a line outside the
 * servers, or the check options the servers carry). Servers that differ only in which ones exist,
 * their weight or state are the runtime's business, and a rewrite of the file is enough.
 */
export function needsReload(current: string, wanted: string): boolean {
  const outside = (t: string) => t.split('\n').filter((l) => !SERVER_LINE_START.test(l)).join('\n');
  if (outside(current) !== outside(wanted)) return true;
  const options = (t: string) => new Set(t.split('\n').filter((l) => SERVER_LINE_START.test(l)).map(serverOptions));
  const [a, b] = [options(current), options(wanted)];
  // With no server on one side there is nothing to compare: new servers get the options of the
  // `add server` line, which always carries the current settings.
  if (a.size === 0 || b.size === 0) return false;
  return a.size !== b.size || [...a].some((o) => !b.has(o));
}
