// ProxyState -> haproxy.cfg text. Pure: the same state always gives the same bytes, so the file
// on a host can be compared with what the live runtime implies.
import { containerSocketPath, PROXY_LISTEN_PORT } from './paths.js';
import {
  assertIpv4, assertPort, assertSafeName, backendName, DEFAULT_FALL, DEFAULT_RISE, READY_WEIGHT,
  type ProxyHealthcheck, type ProxyServer, type ProxyState,
} from './types.js';

export const CONFIG_HEADER = '# Rendered by gangway from the live runtime state of this proxy; edits are overwritten.';

/**
 * Check options go on every server line (never through default-server) because servers added at
 * runtime ignore default-server: the file and `add server` must spell out the same settings.
 */
export function serverCheckOptions(hc: ProxyHealthcheck): string {
  return `check inter ${hc.intervalMs}ms rise ${hc.rise ?? DEFAULT_RISE} fall ${hc.fall ?? DEFAULT_FALL}`;
}

/**
 * The config file has no keyword for "drain", so a draining server is written with weight 0:
 * still health-checked, never picked by the balancer, and read back as drain after a restart.
 * A server in maint is written `disabled`: no traffic and no checks, as at runtime.
 */
export function renderServerLine(server: ProxyServer, hc: ProxyHealthcheck): string {
  assertSafeName('server name', server.name);
  assertIpv4(server.address);
  assertPort(server.port);
  const weight = server.state === 'ready' ? READY_WEIGHT : 0;
  const parts = [`server ${server.name} ${server.address}:${server.port}`, serverCheckOptions(hc), `weight ${weight}`];
  if (server.state === 'maint') parts.push('disabled');
  return parts.join(' ');
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

export function renderHaproxyConfig(state: ProxyState): string {
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
      // Only from inside the host: a unix socket in the bind-mounted directory, never TCP.
      `stats socket ${containerSocketPath} mode 600 level admin expose-fd listeners`,
      'stats timeout 30s',
      // Server up/down transitions reach `docker logs`; per-request lines would flood it.
      'log stdout format raw local0 notice',
      // A reload's old worker finishes its requests, but not forever.
      'hard-stop-after 30s',
    ]),
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

const SERVER_LINE = /^\s*server\s+(\S+)\s+(\d+\.\d+\.\d+\.\d+):(\d+)\s.*?\bweight\s+(\d+)(\s+disabled)?\s*$/;

/**
 * The inverse of renderServerLine for files gangway wrote itself: lets ensureProxy keep the routes
 * when it has to recreate the container and the runtime cannot be asked.
 */
export function parseRenderedServers(cfgText: string): ProxyServer[] {
  const servers: ProxyServer[] = [];
  for (const line of cfgText.split('\n')) {
    const m = SERVER_LINE.exec(line);
    if (!m) continue;
    const state = m[5] ? 'maint' : Number(m[4]) === 0 ? 'drain' : 'ready';
    servers.push({ name: m[1]!, address: m[2]!, port: Number(m[3]), state });
  }
  return servers;
}
