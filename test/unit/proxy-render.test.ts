import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainingLines } from '../../src/proxy/log-excerpt.js';
import { CONFIG_HEADER, needsReload, parseRenderedServers, renderHaproxyConfig, renderServerLine } from '../../src/proxy/render.js';
import type { ProxyServer, ProxyBackend } from '../../src/proxy/types.js';

const hc = { path: '/up', intervalMs: 1000, timeoutMs: 5000 };
const state = (servers: ProxyServer[], over: Partial<ProxyBackend> = {}): ProxyBackend => ({ service: 'hello', appPort: 80, healthcheck: hc, servers, ...over });
const v1: ProxyServer = { name: 'hello-web-v1', address: '172.18.0.3', port: 80, state: 'ready' };
const v2: ProxyServer = { name: 'hello-web-v2', address: '172.18.0.4', port: 8080, state: 'drain' };
const v0: ProxyServer = { name: 'hello-web-v0', address: '172.18.0.5', port: 80, state: 'maint' };

describe('renderServerLine', () => {
  it.each([
    ['ready', v1, 'server hello-web-v1 hello-web-v1:80 check inter 1000ms rise 2 fall 3 weight 100 resolvers engine resolve-prefer ipv4 init-addr libc,none'],
    ['drain: weight 0, still checked', v2, 'server hello-web-v2 hello-web-v2:8080 check inter 1000ms rise 2 fall 3 weight 0 resolvers engine resolve-prefer ipv4 init-addr libc,none'],
    ['maint: disabled', v0, 'server hello-web-v0 hello-web-v0:80 check inter 1000ms rise 2 fall 3 weight 0 resolvers engine resolve-prefer ipv4 init-addr libc,none disabled'],
  ] as const)('%s', (_label, server, line) => {
    expect(renderServerLine(server, hc)).toBe(line);
  });

  it('uses rise and fall from the health check when given', () => {
    expect(renderServerLine(v1, { ...hc, intervalMs: 250, rise: 1, fall: 5 })).toBe('server hello-web-v1 hello-web-v1:80 check inter 250ms rise 1 fall 5 weight 100 resolvers engine resolve-prefer ipv4 init-addr libc,none');
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
    ['a frontend on :80 sending to the service backend', '  bind :80\n  default_backend be_hello'],
    ['a balance algorithm that allows runtime servers', '  balance roundrobin'],
    ['an HTTP/1.1 health check on the configured path', '  http-check send meth GET uri /up ver HTTP/1.1 hdr Host localhost\n  http-check expect status 200'],
    ['the check timeout', '  timeout check 5000ms'],
    ['a resolvers section on the engine\'s DNS', 'resolvers engine\n  nameserver docker 127.0.0.11:53'],
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

// The real HAProxy judges the rendered file when its binary is on this machine.
const haproxy = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy'].find((p) => existsSync(p));
describe.skipIf(!haproxy)('haproxy -c accepts the rendered config', () => {
  it.each([
    ['no servers', state([])],
    ['ready + drain + maint', state([v1, v2, v0])],
    ['custom check', state([v1], { service: 'api.v2', healthcheck: { path: '/health/live?full=1', intervalMs: 200, timeoutMs: 750, rise: 1, fall: 1 } })],
  ])('%s', (_label, s) => {
    const dir = mkdtempSync(join(tmpdir(), 'gangway-proxy-render-'));
    try {
      const file = join(dir, 'haproxy.cfg');
      writeFileSync(file, renderHaproxyConfig(s));
      const out = execFileSync(haproxy!, ['-c', '-f', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).toContain('Configuration file is valid');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

  it('no: only which servers exist, their weight or state differ (the file is rewritten)', () => {
    expect(needsReload(renderHaproxyConfig(base), renderHaproxyConfig(two))).toBe(false);
    expect(needsReload(renderHaproxyConfig({ ...base, servers: [] }), renderHaproxyConfig(two))).toBe(false);
    expect(needsReload(renderHaproxyConfig(two), renderHaproxyConfig({ ...base, servers: [{ ...base.servers[0]!, state: 'drain' }] }))).toBe(false);
  });

  it('yes: a backend setting differs (the health check path)', () => {
    expect(needsReload(renderHaproxyConfig(base), renderHaproxyConfig({ ...base, healthcheck: { ...base.healthcheck, path: '/health' } }))).toBe(true);
  });

  it('yes: the check options the servers carry differ (the interval), even with other servers', () => {
    expect(needsReload(renderHaproxyConfig(base), renderHaproxyConfig({ ...two, healthcheck: { ...base.healthcheck, intervalMs: 500 } }))).toBe(true);
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
