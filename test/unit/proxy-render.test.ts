import { describe, expect, it } from 'vitest';
import { explainingLines } from '../../src/proxy/log-excerpt.js';
import { emptyLayout, type ProxyLayout } from '../../src/proxy/layout.js';
import { CONFIG_HEADER, needsReload, parseRenderedBackends, parseRenderedServers, renderHaproxyConfig, renderMapFiles, renderServerLine, serverCheckOptions } from '../../src/proxy/render.js';
import type { ProxyHealthcheck, ProxyServer } from '../../src/proxy/types.js';

const hc = { path: '/up', intervalMs: 1000, timeoutMs: 5000 };
interface One { service: string; appPort: number; healthcheck: ProxyHealthcheck; servers: ProxyServer[] }
/** One service in the first slot, the catch-all, as a host with one service has it. */
const layoutOf = (one: One): ProxyLayout => {
  const l = emptyLayout();
  l.slots[0] = { backend: l.slots[0]!.backend, settings: { owner: one.service, appPort: one.appPort, healthcheck: one.healthcheck, responseTimeoutMs: 60_000, maxBodyBytes: 0, forwardHeaders: true }, servers: one.servers };
  return { ...l, catchAll: l.slots[0]!.backend };
};
const state = (servers: ProxyServer[], over: Partial<One> = {}): ProxyLayout => layoutOf({ service: 'hello', appPort: 80, healthcheck: hc, servers, ...over });
const v1: ProxyServer = { name: 'hello-web-v1', address: '172.18.0.3', port: 80, state: 'ready' };
const v2: ProxyServer = { name: 'hello-web-v2', address: '172.18.0.4', port: 8080, state: 'drain' };
const v0: ProxyServer = { name: 'hello-web-v0', address: '172.18.0.5', port: 80, state: 'maint' };

describe('renderServerLine', () => {
  it.each([
    ['ready', v1, 'server hello-web-v1 hello-web-v1:80 check inter 1000ms rise 2 fall 3 fastinter 100ms downinter 100ms weight 100 resolvers engine resolve-prefer ipv4 init-addr libc,none'],
    ['drain: weight 0, still checked', v2, 'server hello-web-v2 hello-web-v2:8080 check inter 1000ms rise 2 fall 3 fastinter 100ms downinter 100ms weight 0 resolvers engine resolve-prefer ipv4 init-addr libc,none'],
    ['maint: disabled', v0, 'server hello-web-v0 hello-web-v0:80 check inter 1000ms rise 2 fall 3 fastinter 100ms downinter 100ms weight 0 resolvers engine resolve-prefer ipv4 init-addr libc,none disabled'],
  ] as const)('%s', (_label, server, line) => {
    expect(renderServerLine(server, hc)).toBe(line);
  });

  it('uses rise and fall from the health check when given', () => {
    expect(renderServerLine(v1, { ...hc, intervalMs: 250, rise: 1, fall: 5 })).toBe('server hello-web-v1 hello-web-v1:80 check inter 250ms rise 1 fall 5 fastinter 100ms downinter 100ms weight 100 resolvers engine resolve-prefer ipv4 init-addr libc,none');
  });

  it('keeps a canary\'s split: a ready server\'s own weight is written and read back; drain stays 0', () => {
    const split = [{ ...v1, weight: 90 }, { ...v2, state: 'ready' as const, weight: 10 }];
    const lines = split.map((srv) => renderServerLine(srv, hc));
    expect(lines[0]).toContain(' weight 90 ');
    expect(lines[1]).toContain(' weight 10 ');
    expect(renderServerLine({ ...v2, weight: 10 }, hc)).toContain(' weight 0 ');
    expect(parseRenderedServers(lines.join('\n')).map((srv) => [srv.state, srv.weight])).toEqual([['ready', 90], ['ready', 10]]);
    // A full-weight server reads back without one, as every file before canaries did.
    expect(parseRenderedServers(renderServerLine(v1, hc))[0]).not.toHaveProperty('weight');
  });

  it('names the container, never the address it had when the file was written', () => {
    expect(renderServerLine({ ...v1, address: '10.9.9.9' }, hc)).toBe(renderServerLine(v1, hc));
  });

  it.each([
    ['a name with a space', { ...v1, name: 'a b' }, /not usable/],
    ['a name with ;', { ...v1, name: 'a;b' }, /not usable/],
    ['port 0', { ...v1, port: 0 }, /port/],
  ])('rejects %s', (_label, server, message) => {
    expect(() => renderServerLine(server as ProxyServer, hc)).toThrow(message);
  });
});

describe('renderHaproxyConfig', () => {
  const text = renderHaproxyConfig(state([v1, v2, v0]));

  it('starts with the header that says who writes the file', () => {
    expect(text.split('\n')[0]).toBe(CONFIG_HEADER);
  });

  it.each([
    ['the admin socket in the bind-mounted directory', '  stats socket /usr/local/etc/haproxy/admin.sock mode 660 level admin expose-fd listeners'],
    ['no TCP stats listener', undefined],
    ['a frontend on :80 and :443 routing by Host and path through the maps', '  bind :80\n  bind :443 ssl crt-list /usr/local/etc/haproxy/certs/crt-list.txt alpn h2,http/1.1\n  http-request set-var(txn.gw_path) path'],
    ['ACME challenges on plain HTTP first, then the longest route prefix, then the catch-all, then 404', '  acl gw_acme path_beg /.well-known/acme-challenge/\n  use_backend acme if gw_acme !{ ssl_fc }\n  use_backend %[var(txn.gw_be)] if { var(txn.gw_be) -m found }\n  default_backend be_unrouted'],
    ['the ACME container as the acme backend, resolved by name', 'backend acme\n  server-template acme 1 gangway-acme:8402 resolvers engine'],
    ['a 308 to https on plain HTTP when the slot map says so, first in the slot; with the slot\'s port when it is not 443', '  balance roundrobin\n' +
      '  http-request redirect location https://%[req.hdr(host),field(1,:)]%[capture.req.uri] code 308 if !{ ssl_fc } { str(be_slot_01),map(/usr/local/etc/haproxy/slots.map),field(13,|) -m str on }\n' +
      '  http-request redirect location https://%[req.hdr(host),field(1,:)]:%[str(be_slot_01),map(/usr/local/etc/haproxy/slots.map),field(13,|),field(2,:)]%[capture.req.uri] code 308 if !{ ssl_fc } { str(be_slot_01),map(/usr/local/etc/haproxy/slots.map),field(13,|) -m beg on: }'],
    ['X-Forwarded-Proto from the connection', '  http-request set-header X-Forwarded-Proto https if gw_forward { ssl_fc }\n  http-request set-header X-Forwarded-Proto http if gw_forward !{ ssl_fc }'],
    ['sixteen slots', 'backend be_slot_16'],
    ['a balance algorithm that allows runtime servers', '  balance roundrobin'],
    ['an HTTP/1.1 health check whose path and Host come from the slot map', '  http-check send meth GET uri-lf %[str(be_slot_01),map(/usr/local/etc/haproxy/slots.map),field(3,|)] ver HTTP/1.1 hdr Host %[str(be_slot_01),map(/usr/local/etc/haproxy/slots.map),field(4,|)]\n  http-check expect status 200'],
    ['the response timeout from the slot map', '  http-request set-timeout server str(be_slot_01),map(/usr/local/etc/haproxy/slots.map),field(5,|)'],
    ['the check timeout', '  timeout check 5000ms'],
    ['per server, a count of the answers slower than the slot\'s runtime bound (the canary\'s p99 gate)', '  stick-table type string len 64 size 1k expire 1h store gpc0\n  http-request set-var(txn.gw_t0) date(0,ms)\n  http-response set-var(txn.gw_dt) date(0,ms),sub(txn.gw_t0)\n  http-response track-sc0 srv_name\n  http-response sc-inc-gpc0(0) if { var(txn.gw_dt),sub(proc.gw_slow_be_slot_01) gt 0 }'],
    ['a resolvers section on the engine\'s DNS', 'resolvers engine\n  nameserver docker 127.0.0.11:53'],
    ['responses that close their connection while closing.map holds its key (before a reload), after routing', '  default_backend be_unrouted\n  http-after-response set-header Connection close if { str(closing),map(/usr/local/etc/haproxy/closing.map) -m found }'],
    ['explicit client/server/keep-alive timeouts', '  timeout client 60s\n  timeout server 60s\n  timeout http-request 10s\n  timeout http-keep-alive 60s'],
  ])('has %s', (_label, snippet) => {
    if (snippet === undefined) expect(text).not.toMatch(/stats socket (ipv4@|\d|:)/);
    else expect(text).toContain(snippet);
  });

  it('does not close server connections after each request', () => {
    expect(text).not.toContain('http-server-close');
    expect(text).not.toContain('httpclose');
  });

  it('lists servers in state order, one line each', () => {
    expect(text.match(/^ {2}server .*$/gm)?.map((l) => l.trim())).toEqual([renderServerLine(v1, hc), renderServerLine(v2, hc), renderServerLine(v0, hc)]);
  });

  it('renders a backend without servers', () => {
    expect(renderHaproxyConfig(state([]))).not.toMatch(/^\s*server /m);
  });

  it('is deterministic', () => {
    expect(renderHaproxyConfig(state([v1, v2, v0]))).toBe(text);
  });

  it('rejects a duplicate server name', () => {
    expect(() => renderHaproxyConfig(state([v1, { ...v2, name: v1.name }]))).toThrow(/twice/);
  });

  it.each([
    ['a path without a leading slash', 'up'],
    ['a path with a space', '/u p'],
    ['a path with a quote', '/u"p'],
    ['a path with a |', '/u|p'],
  ])('rejects %s', (_label, path) => {
    expect(() => renderHaproxyConfig(state([], { healthcheck: { ...hc, path } }))).toThrow(/health check path/);
  });
});

describe('parseRenderedServers', () => {
  it('reads back exactly the servers that were rendered, addressed by name', () => {
    const byName = (s: ProxyServer) => ({ ...s, address: s.name });
    expect(parseRenderedServers(renderHaproxyConfig(state([v1, v2, v0])))).toEqual([v1, v2, v0].map(byName));
  });

  it('reads the IP-addressed lines of files written before servers were resolved by name', () => {
    const old = [
      'server hello-web-v1 172.18.0.3:80 check inter 1000ms rise 2 fall 3 weight 100',
      'server hello-web-v2 172.18.0.4:8080 check inter 1000ms rise 2 fall 3 weight 0',
      'server hello-web-v0 172.18.0.5:80 check inter 1000ms rise 2 fall 3 weight 0 disabled',
    ].map((l) => `  ${l}`).join('\n');
    expect(parseRenderedServers(`backend be_hello\n${old}\n`)).toEqual([v1, v2, v0]);
  });

  it('finds nothing in a file without servers', () => {
    expect(parseRenderedServers('global\n  maxconn 10\n')).toEqual([]);
  });
});

describe('needsReload: what only a reload changes', () => {
  const base = {
    service: 'hello',
    appPort: 80,
    healthcheck: { path: '/up', intervalMs: 1000, timeoutMs: 2000 },
    servers: [{ name: 'hello-web-1', address: 'hello-web-1', port: 80, state: 'ready' as const }],
  };
  const two = { ...base, servers: [...base.servers, { name: 'hello-web-2', address: 'hello-web-2', port: 80, state: 'drain' as const }] };
  const r = (o: One) => renderHaproxyConfig(layoutOf(o));

  it('no: only which servers exist, their weight or state differ (the file is rewritten)', () => {
    expect(needsReload(r(base), r(two))).toBe(false);
    expect(needsReload(r({ ...base, servers: [] }), r(two))).toBe(false);
    expect(needsReload(r(two), r({ ...base, servers: [{ ...base.servers[0]!, state: 'drain' }] }))).toBe(false);
  });

  it('no: the check path and Host are read from the slot map at runtime', () => {
    expect(needsReload(r(base), r({ ...base, healthcheck: { ...base.healthcheck, path: '/health', host: 'app.test' } }))).toBe(false);
  });

  it('no: a free slot takes a service with the default expected status and check timeout (routes and slots are maps)', () => {
    const b = layoutOf(base);
    const settings = b.slots[0]!.settings!;
    b.slots[1] = { backend: b.slots[1]!.backend, settings: { ...settings, owner: 'other', healthcheck: { ...settings.healthcheck, path: '/x', timeoutMs: 5000 } }, servers: [] };
    expect(needsReload(r(base), renderHaproxyConfig(b))).toBe(false);
  });

  it('yes: what only the file holds: the expected status or the check timeout', () => {
    expect(needsReload(r(base), r({ ...base, healthcheck: { ...base.healthcheck, status: 204 } }))).toBe(true);
    expect(needsReload(r(base), r({ ...base, healthcheck: { ...base.healthcheck, timeoutMs: 900 } }))).toBe(true);
  });

  it('yes: the check options the servers carry differ (the interval), even with other servers', () => {
    expect(needsReload(r(base), r({ ...two, healthcheck: { ...base.healthcheck, intervalMs: 500 } }))).toBe(true);
  });
});

describe('two services on one proxy', () => {
  const l = emptyLayout();
  const settings = (owner: string, path: string) => ({ owner, appPort: 80, healthcheck: { path, intervalMs: 1000, timeoutMs: 2000 }, responseTimeoutMs: 30_000, maxBodyBytes: 1024, forwardHeaders: owner === 'a' });
  l.slots[0] = { backend: 'be_slot_01', settings: settings('a', '/up'), servers: [{ name: 'a-web-1', address: '10.0.0.2', port: 80, state: 'ready' }] };
  l.slots[1] = { backend: 'be_slot_02', settings: settings('b@staging', '/health'), servers: [{ name: 'b-web-1', address: '10.0.0.3', port: 80, state: 'ready' }, { name: 'b-web-2', address: '10.0.0.4', port: 80, state: 'drain' }] };
  const layout: ProxyLayout = { ...l, routes: [{ key: 'a.test/', backend: 'be_slot_01' }, { key: 'b.test/api/', backend: 'be_slot_02' }], catchAll: 'be_slot_01' };
  const text = renderHaproxyConfig(layout);

  it('every service has its own backend with its own servers', () => {
    const backends = parseRenderedBackends(text);
    expect(backends.get('be_slot_01')?.map((s) => s.name)).toEqual(['a-web-1']);
    expect(backends.get('be_slot_02')?.map((s) => [s.name, s.state])).toEqual([['b-web-1', 'ready'], ['b-web-2', 'drain']]);
    expect(backends.get('be_slot_03')).toBeUndefined();
  });

  it('the maps hold slots (with every setting), routes and the catch-all', () => {
    const maps = renderMapFiles(layout);
    expect(maps.slots).toBe('be_slot_01 a|80|/up|localhost|30000|1024|on|200|1000|2000|2|3|off\nbe_slot_02 b@staging|80|/health|localhost|30000|1024|off|200|1000|2000|2|3|off\n');
    expect(maps.routes).toBe('a.test/ be_slot_01\nb.test/api/ be_slot_02\n');
    expect(maps.catchAll).toBe('* be_slot_01\n');
  });

  it('rejects a route to something that is not a slot, and one owner in two slots', () => {
    expect(() => renderHaproxyConfig({ ...layout, routes: [{ key: 'x/', backend: 'be_x' }] })).toThrow(/not a slot/);
    const twice = { ...layout, slots: layout.slots.map((s, i) => (i === 2 ? { ...s, settings: settings('a', '/up') } : s)) };
    expect(() => renderHaproxyConfig(twice)).toThrow(/owns two backend slots/);
  });
});

describe('explainingLines: a failed proxy start shows why, not its routine log', () => {
  const routine = Array.from({ length: 40 }, (_, i) => `[WARNING]  (8) : Server be_hello/hello-web-${i} is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 0 backup servers left.`);

  it('keeps the alerts and drops the server transitions', () => {
    const lines = [...routine.slice(0, 20), '[ALERT]    (1) : config : parsing [/usr/local/etc/haproxy/haproxy.cfg:12] : unknown keyword \'bogus\' in \'global\' section', ...routine.slice(20)];
    expect(explainingLines(lines)).toEqual([lines[20]]);
  });

  it('falls back to the last non-routine lines, at most eight', () => {
    const other = Array.from({ length: 12 }, (_, i) => `[NOTICE]   (1) : haproxy version is 2.6.12 line ${i}`);
    const out = explainingLines([...routine, ...other]);
    expect(out).toEqual(other.slice(-8));
  });
});

describe('serverCheckOptions', () => {
  it('checks a server that is down or rising at most 100 ms apart, and never slower than its own interval', () => {
    const hc = { path: '/up', intervalMs: 1000, timeoutMs: 2000 };
    expect(serverCheckOptions(hc)).toBe('check inter 1000ms rise 2 fall 3 fastinter 100ms downinter 100ms');
    expect(serverCheckOptions({ ...hc, intervalMs: 50 })).toBe('check inter 50ms rise 2 fall 3 fastinter 50ms downinter 50ms');
  });
});
