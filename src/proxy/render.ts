// ProxyBackend -> haproxy.cfg text. Pure: the same state always gives the same bytes, so the file
// on a host can be compared with what the live runtime implies.
import { containerSocketPath, PROXY_LISTEN_PORT } from './paths.js';
import {
  assertPort, assertSafeName, backendName, DEFAULT_FALL, DEFAULT_RISE, READY_WEIGHT,
  type ProxyHealthcheck, type ProxyServer, type ProxyBackend,
} from './types.js';

export const CONFIG_HEADER = '# Rendered by gangway from the live runtime state of this proxy; edits are overwritten.';

/**
 * Check options go on every server line (never through default-server) because servers added at
 * runtime ignore default-server: the file and `add server` must spell out the same settings.
 */
export function serverCheckOptions(hc: ProxyHealthcheck): string {
  return `check inter ${hc.intervalMs}ms rise ${hc.rise ?? DEFAULT_RISE} fall ${hc.fall ?? DEFAULT_FALL}`;
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
  const weight = server.state === 'ready' ? READY_WEIGHT : 0;
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

/** HTTP/1.1 with a Host header: many apps reject HTTP/1.0 requests without one. */
function healthcheckLines(hc: ProxyHealthcheck): string[] {
  if (!hc.path.startsWith('/') || /[\s"'\\]/.test(hc.path)) throw new Error(`health check path "${hc.path}" must start with / and contain no spaces or quotes`);
  return [
    'option httpchk',
    `http-check send meth GET uri ${hc.path} ver HTTP/1.1 hdr Host localhost`,
    'http-check expect status 200',
    `timeout check ${hc.timeoutMs}ms`,
  ];
}

export function renderHaproxyConfig(state: ProxyBackend): string {
  assertSafeName('service', state.service);
  assertPort(state.appPort);
  const names = new Set<string>();
  for (const s of state.servers) {
    if (names.has(s.name)) throw new Error(`server ${s.name} appears twice in the proxy state`);
    names.add(s.name);
  }
  const backend = backendName(state.service);
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
      'option forwardfor',
      'option redispatch',
      'retries 3',
      'timeout connect 5s',
      'timeout client 60s',
      'timeout server 60s',
      'timeout http-request 10s',
      'timeout http-keep-alive 60s',
      'timeout queue 30s',
    ]),
    '',
    'frontend fe_http',
    ...indent([`bind :${PROXY_LISTEN_PORT}`, `default_backend ${backend}`]),
    '',
    `backend ${backend}`,
    ...indent([
      // Runtime `add server` needs an algorithm with dynamic weights; roundrobin is one.
      'balance roundrobin',
      ...healthcheckLines(state.healthcheck),
      ...state.servers.map((s) => renderServerLine(s, state.healthcheck)),
    ]),
    '',
  ].join('\n');
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
    servers.push({ name: m[1]!, address: m[2]!, port: Number(m[3]), state });
  }
  return servers;
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
