// The shared proxy's pure parts (issue 14): slot settings on a map line, route keys, who may
// claim what (the conflict table), map diffs, the single-service file read for the migration,
// and the files read back.
import { describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { decideClaim, mapChanges, mapContents, proxiedRoleConflicts, type RouteClaim } from '../../src/proxy/claims.js';
import { parseLayoutFiles, readLayoutCommand, renderLayoutFiles, writeLayoutCommand } from '../../src/proxy/layout-files.js';
import { layoutFrom, layoutFromLegacy } from '../../src/proxy/layout-state.js';
import { decodeSettings, describeRouteKey, emptyLayout, encodeSettings, hostNameProblem, pathPrefixProblem, routeKey, withoutServers, type ProxyLayout, type SlotSettings } from '../../src/proxy/layout.js';
import { parseLegacyConfig } from '../../src/proxy/legacy.js';
import { proxyWork } from '../../src/proxy/lifecycle.js';
import { parseRenderedBackends } from '../../src/proxy/render.js';
import { closingOff, closingOn, mapCommand, parseMapFile, parseShowMap } from '../../src/proxy/runtime-maps.js';

const settings = (owner: string, over: Partial<SlotSettings> = {}): SlotSettings => ({
  owner, appPort: 80, healthcheck: { path: '/up', intervalMs: 1000, timeoutMs: 5000 }, responseTimeoutMs: 60_000, maxBodyBytes: 0, forwardHeaders: true, ...over,
});
const claim = (owner: string, hosts: string[], pathPrefix?: string): RouteClaim => ({ settings: settings(owner), hosts, ...(pathPrefix ? { pathPrefix } : {}) });

/** A host whose proxy has A on a.test in slot 01 and B as the catch-all in slot 02. */
function hostWithAandB(): ProxyLayout {
  const l = emptyLayout();
  l.slots[0] = { backend: 'be_slot_01', settings: settings('a'), servers: [{ name: 'a-web-1', address: '10.0.0.2', port: 80, state: 'ready' }] };
  l.slots[1] = { backend: 'be_slot_02', settings: settings('b'), servers: [] };
  return { ...l, routes: [{ key: 'a.test/', backend: 'be_slot_01' }, { key: 'a.test/api/', backend: 'be_slot_01' }], catchAll: 'be_slot_02' };
}

describe('slot settings on one map line', () => {
  it('round-trips every field', () => {
    const s = settings('hello@staging', { appPort: 8080, healthcheck: { path: '/health', intervalMs: 250, timeoutMs: 900, rise: 1, fall: 5, status: 204, host: 'app.test' }, responseTimeoutMs: 5000, maxBodyBytes: 1048576, forwardHeaders: false });
    expect(decodeSettings(encodeSettings(s))).toEqual(s);
  });
  it.each([['a space', '/u p'], ['a |', '/u|p'], ['a ;', '/u;p']])('refuses a value with %s', (_l, path) => {
    expect(() => encodeSettings(settings('a', { healthcheck: { path, intervalMs: 1, timeoutMs: 1 } }))).toThrow(/cannot go in a map/);
  });
  it('reads nothing from a value gangway did not write', () => {
    expect(decodeSettings('something else')).toBeUndefined();
    // Written before TLS: one field fewer, read as no redirect; the redirect round-trips.
    expect(decodeSettings('a|80|/up|h|1|0|on|200|1|1|2|3')).toMatchObject({ owner: 'a', forwardHeaders: true });
    expect(decodeSettings('a|80|/up|h|1|0|on|200|1|1|2|3')?.sslRedirect).toBeUndefined();
    const redirecting = settings('a', { sslRedirect: true });
    expect(encodeSettings(redirecting).endsWith('|on')).toBe(true);
    expect(decodeSettings(encodeSettings(redirecting))?.sslRedirect).toBe(true);
    expect(decodeSettings('a|x|/up|h|1|0|on|200|1|1|2|3')).toBeUndefined();
  });
  it('keeps the redirect\'s HTTPS port when it is not 443, and only then', () => {
    const on8443 = settings('a', { sslRedirect: true, redirectPort: 8443 });
    expect(encodeSettings(on8443).endsWith('|on:8443')).toBe(true);
    expect(decodeSettings(encodeSettings(on8443))).toMatchObject({ sslRedirect: true, redirectPort: 8443 });
    // 443 is the Location without a port: written as before the port was kept.
    expect(encodeSettings(settings('a', { sslRedirect: true, redirectPort: 443 })).endsWith('|on')).toBe(true);
    // No redirect, no port.
    expect(encodeSettings(settings('a', { redirectPort: 8443 })).endsWith('|off')).toBe(true);
    for (const bad of ['on:', 'on:0', 'on:70000', 'on:x', 'yes']) expect(decodeSettings(`a|80|/up|h|1|0|on|200|1|1|2|3|${bad}`), bad).toBeUndefined();
  });
});

describe('route keys and names', () => {
  it.each([
    ['app.example.com', undefined, 'app.example.com/'],
    ['app.example.com', '/api', 'app.example.com/api/'],
    ['a.test', '/v1/admin', 'a.test/v1/admin/'],
  ])('%s %s -> %s', (host, prefix, key) => {
    expect(routeKey(host, prefix)).toBe(key);
    expect(describeRouteKey(key)).toBe(`${host}${prefix ?? ''}`);
  });
  it.each([['app.example.com', true], ['localhost', true], ['App.example.com', false], ['a..b', false], ['a.test:8080', false], ['-a.test', false], ['a b', false]])('host name %s ok=%s', (name, ok) => {
    expect(hostNameProblem(name) === undefined).toBe(ok);
  });
  it.each([['/api', true], ['/v1/admin', true], ['/', false], ['/api/', false], ['api', false], ['/a b', false]])('path prefix %s ok=%s', (p, ok) => {
    expect(pathPrefixProblem(p) === undefined).toBe(ok);
  });
});

describe('decideClaim: the conflict table', () => {
  it.each([
    ['a new service with its own name', claim('c', ['c.test']), true],
    ['a new service under a prefix of another name', claim('c', ['a.test'], '/admin'), true],
    ['the same owner again (redeploy)', claim('a', ['a.test']), true],
    ['another service on the same name', claim('c', ['a.test']), false],
    ['another service on the same name and prefix', claim('c', ['a.test'], '/api'), false],
    ['another service on the same name among others', claim('c', ['c.test', 'a.test']), false],
    ['a second catch-all', claim('c', []), false],
    ['the catch-all again (redeploy)', claim('b', []), true],
    ['the catch-all owner now declaring names', claim('b', ['b.test']), true],
  ] as const)('%s: ok=%s', (_label, c, ok) => {
    const d = decideClaim(hostWithAandB(), c, 'vm1');
    expect(d.ok).toBe(ok);
  });

  it('names both sides and the host', () => {
    const d = decideClaim(hostWithAandB(), claim('c', ['a.test']), 'vm1');
    expect(d).toEqual({ ok: false, conflicts: ['a.test on vm1 is claimed by both c (this deploy) and a (already on the proxy)'] });
    const two = decideClaim(hostWithAandB(), claim('c', []), 'vm2');
    expect(!two.ok && two.conflicts[0]).toMatch(/c \(this deploy, no proxy.hosts\) and b \(already on the proxy\) would both be the catch-all on vm2/);
  });

  it('a new owner takes the first free slot; its routes are added, nobody else\'s touched', () => {
    const d = decideClaim(hostWithAandB(), claim('c', ['c.test']), 'vm1');
    if (!d.ok) throw new Error('refused');
    expect(d.backend).toBe('be_slot_03');
    expect(d.layout.routes).toEqual([...hostWithAandB().routes, { key: 'c.test/', backend: 'be_slot_03' }]);
    expect(d.layout.catchAll).toBe('be_slot_02');
    expect(mapChanges(mapContents(hostWithAandB()), mapContents(d.layout)).map((c) => `${c.op} ${c.kind} ${c.key}`)).toEqual(['add slots be_slot_03', 'add routes c.test/']);
  });

  it('a redeploy that drops a name removes only that route, after the additions', () => {
    const d = decideClaim(hostWithAandB(), claim('a', ['a2.test']), 'vm1');
    if (!d.ok) throw new Error('refused');
    expect(mapChanges(mapContents(hostWithAandB()), mapContents(d.layout)).map((c) => `${c.op} ${c.kind} ${c.key}`)).toEqual(['add routes a2.test/', 'del routes a.test/', 'del routes a.test/api/']);
  });

  it('the catch-all that declares names stops being the catch-all', () => {
    const d = decideClaim(hostWithAandB(), claim('b', ['b.test']), 'vm1');
    expect(d.ok && d.layout.catchAll).toBe(undefined);
  });

  it('a route left to a freed slot (no owner) is taken over', () => {
    const l = hostWithAandB();
    l.routes.push({ key: 'old.test/', backend: 'be_slot_05' });
    expect(decideClaim(l, claim('c', ['old.test']), 'vm1').ok).toBe(true);
  });

  it('refuses when every slot is taken', () => {
    const full: ProxyLayout = { ...emptyLayout(), slots: emptyLayout().slots.map((s, i) => ({ ...s, settings: settings(`s${i}`) })) };
    const d = decideClaim(full, claim('c', ['c.test']), 'vm1');
    expect(!d.ok && d.conflicts[0]).toMatch(/every backend slot/);
  });
});

describe('proxiedRoleConflicts', () => {
  it('two proxied roles of one service on one host', () => {
    expect(proxiedRoleConflicts('hello', [{ role: 'web', hosts: ['vm1', 'vm2'] }, { role: 'api', hosts: ['vm2'] }])).toEqual([
      'vm2 runs two proxied roles of hello (web and api); one proxy route per service and host: put one of them on another host or set proxy: false on it',
    ]);
    expect(proxiedRoleConflicts('hello', [{ role: 'web', hosts: ['vm1'] }, { role: 'api', hosts: ['vm2'] }])).toEqual([]);
  });
});

describe('runtime map lines', () => {
  it('builds add/set/del map and refuses a space', () => {
    expect(mapCommand({ kind: 'routes', op: 'add', key: 'a.test/', value: 'be_slot_01' }).line).toBe('add map /usr/local/etc/haproxy/routes.map a.test/ be_slot_01');
    expect(mapCommand({ kind: 'catchAll', op: 'set', key: '*', value: 'be_slot_02' }).line).toBe('set map /usr/local/etc/haproxy/default.map * be_slot_02');
    expect(mapCommand({ kind: 'slots', op: 'del', key: 'be_slot_03' }).line).toBe('del map /usr/local/etc/haproxy/slots.map be_slot_03');
    expect(() => mapCommand({ kind: 'routes', op: 'add', key: 'a b', value: 'x' })).toThrow(/space/);
  });
  it('sets and clears the closing flag the frontend reads', () => {
    expect(closingOn()).toEqual({ line: 'add map /usr/local/etc/haproxy/closing.map closing on', expect: { kind: 'empty' } });
    expect(closingOff()).toEqual({ line: 'clear map /usr/local/etc/haproxy/closing.map', expect: { kind: 'empty' } });
    expect(renderLayoutFiles(hostWithAandB()).config).toContain(`str(closing),map(/usr/local/etc/haproxy/closing.map) -m found`);
  });
  it('parses show map (as measured on 2.6.12) and map files', () => {
    expect(parseShowMap('0x55fa13b30e90 a.test/ be_slot_1\n0x7f815c046d90 b.test/ be_slot_2\n\n')).toEqual(new Map([['a.test/', 'be_slot_1'], ['b.test/', 'be_slot_2']]));
    expect(parseShowMap('')).toEqual(new Map());
    expect(parseMapFile('# comment\na.test/ be_slot_01\n\n* be_slot_02\n')).toEqual(new Map([['a.test/', 'be_slot_01'], ['*', 'be_slot_02']]));
  });
});

const LEGACY = `# Rendered by gangway from the live runtime state of this proxy; edits are overwritten.
global
  stats socket /usr/local/etc/haproxy/admin.sock mode 660 level admin expose-fd listeners
defaults
  mode http
  option forwardfor
frontend fe_http
  bind :80
  default_backend be_hello

backend be_hello
  balance roundrobin
  option httpchk
  http-check send meth GET uri /health ver HTTP/1.1 hdr Host localhost
  http-check expect status 200
  timeout check 2000ms
  server hello-web-1.0.0 hello-web-1.0.0:8080 check inter 500ms rise 1 fall 4 weight 100 resolvers engine resolve-prefer ipv4 init-addr libc,none
  server hello-web-0.9.0 hello-web-0.9.0:8080 check inter 500ms rise 1 fall 4 weight 0 resolvers engine resolve-prefer ipv4 init-addr libc,none
`;

describe('the single-service file (migration)', () => {
  it('reads its service, servers and checks', () => {
    const legacy = parseLegacyConfig(LEGACY)!;
    expect(legacy.service).toBe('hello');
    expect(legacy.healthcheck).toEqual({ path: '/health', intervalMs: 500, timeoutMs: 2000, rise: 1, fall: 4 });
    expect(legacy.servers.map((s) => [s.name, s.state, s.port])).toEqual([['hello-web-1.0.0', 'ready', 8080], ['hello-web-0.9.0', 'drain', 8080]]);
  });
  it('becomes the catch-all in the first slot, keeping its servers', () => {
    const layout = layoutFromLegacy(parseLegacyConfig(LEGACY)!, { appPort: 80 });
    expect(layout.catchAll).toBe('be_slot_01');
    expect(layout.slots[0]!.settings).toMatchObject({ owner: 'hello', appPort: 8080, forwardHeaders: true });
    const files = renderLayoutFiles(layout);
    expect(parseRenderedBackends(files.config).get('be_slot_01')?.map((s) => s.name)).toEqual(['hello-web-1.0.0', 'hello-web-0.9.0']);
    expect(files.maps.catchAll).toBe('* be_slot_01\n');
  });
  it('is not the shared file', () => {
    expect(parseLegacyConfig(renderLayoutFiles(hostWithAandB()).config)).toBeUndefined();
  });
});

describe('the files of a shared proxy', () => {
  it('render and read back to the same layout (maint servers left out)', () => {
    const l = hostWithAandB();
    const files = renderLayoutFiles(l);
    const back = layoutFrom({ maps: { slots: parseMapFile(files.maps.slots), routes: parseMapFile(files.maps.routes), catchAll: parseMapFile(files.maps.catchAll) }, servers: parseRenderedBackends(files.config) });
    expect(back.routes).toEqual(l.routes);
    expect(back.catchAll).toBe(l.catchAll);
    expect(back.slots[0]!.settings).toEqual({ ...l.slots[0]!.settings, healthcheck: { ...l.slots[0]!.settings!.healthcheck, status: 200, host: 'localhost', rise: 2, fall: 3 } });
    expect(back.slots[0]!.servers.map((s) => s.name)).toEqual(['a-web-1']);
  });
  it('leave out the servers named as gone (their containers removed), in every slot, and nothing else', () => {
    const l = hostWithAandB();
    l.slots[1]!.servers = [{ name: 'b-web-1', address: '10.0.0.3', port: 80, state: 'ready' }, { name: 'b-web-2', address: '10.0.0.4', port: 80, state: 'drain' }];
    const kept = withoutServers(l, new Set(['a-web-1', 'b-web-2']));
    expect(kept.slots.map((s) => s.servers.map((v) => v.name))).toEqual([[], ['b-web-1'], ...l.slots.slice(2).map(() => [])]);
    expect({ routes: kept.routes, catchAll: kept.catchAll, settings: kept.slots.map((s) => s.settings) }).toEqual({ routes: l.routes, catchAll: l.catchAll, settings: l.slots.map((s) => s.settings) });
    // The layout it was given is untouched.
    expect(l.slots[0]!.servers).toHaveLength(1);
  });
  it('one command writes every file, maps before the config; the reader tells missing from empty', () => {
    const cmd = writeLayoutCommand(renderLayoutFiles(hostWithAandB()), '/srv/p').command;
    expect(cmd.indexOf('/srv/p/routes.map')).toBeLessThan(cmd.indexOf('/srv/p/haproxy.cfg'));
    // closing.map, which the config loads, always empty: a (re)started proxy closes nothing.
    expect(cmd).toContain("printf %s '' | base64 -d > /srv/p/.closing.map.tmp");
    expect(cmd.indexOf('/srv/p/closing.map')).toBeLessThan(cmd.indexOf('/srv/p/haproxy.cfg'));
    expect(readLayoutCommand('/srv/p').command).toContain('base64 -w0 < /srv/p/haproxy.cfg');
    const cfg = Buffer.from('global\n').toString('base64');
    expect(parseLayoutFiles(`gangway-proxy-file haproxy.cfg ${cfg}\ngangway-proxy-file routes.map \ngangway-proxy-file slots.map -\n`)).toEqual({ config: 'global\n', maps: { routes: '' } });
  });
});

describe('proxyWork: what bringing a proxy up takes (ensureProxy, and the read-only check a deploy makes while it pulls)', () => {
  const spec = { Labels: { 'gangway.proxy.spec': 'h1' } };
  const container = (running: boolean, specLabel = 'h1', image = 'sha256:p') =>
    ({ Id: 'c1', Image: image, State: { Running: running }, Config: { Labels: { 'gangway.proxy.spec': specLabel } } }) as unknown as Docker.ContainerInspectInfo;
  const before = hostWithAandB();
  const same = { before, after: before, legacyRuntime: false };
  const stored = (l: ProxyLayout) => { const f = renderLayoutFiles(l); return { config: f.config, maps: { ...f.maps } }; };
  const withC = decideClaim(before, claim('c', ['c.test']), 'vm1');
  if (!withC.ok) throw new Error('claim c must fit');
  const work = (o: Partial<Parameters<typeof proxyWork>[0]>) => proxyWork({ existing: container(true), spec, imageId: 'sha256:p', plan: same, stored: stored(before), ...o });

  it.each([
    ['no container', { existing: undefined }, 'create'],
    ['another spec', { existing: container(true, 'h0') }, 'create'],
    ['another image', { existing: container(true, 'h1', 'sha256:old') }, 'create'],
    ['stopped', { existing: container(false) }, 'start'],
    ['no file', { stored: { maps: {} } }, 'reload'],
    ['the single-service layout', { plan: { ...same, legacyRuntime: true } }, 'reload'],
    ['a new route and slot', { plan: { before, after: withC.layout, legacyRuntime: false } }, 'runtime'],
    ['a map file that differs', { stored: { ...stored(before), maps: { ...stored(before).maps, routes: '' } } }, 'runtime'],
    ['everything as wanted', {}, 'none'],
  ] as const)('%s: %s', (_label, o, expected) => {
    expect(work(o as Partial<Parameters<typeof proxyWork>[0]>)).toBe(expected);
  });
});
