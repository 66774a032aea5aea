// Every runtime-API builder against a real HAProxy process: the lines are accepted, the replies
// parse, refusals become GangwayErrors. On 2.6 the Debian binary runs with no container; on 3.0
// (GANGWAY_TEST_PROXY=3.0) the binary of the 3.0 image runs on the host's network (proxy-line.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GangwayError } from '../../src/errors.js';
import { emptyLayout, MAP_FILES, type ProxyLayout } from '../../src/proxy/layout.js';
import { CLOSING_MAP_FILE } from '../../src/proxy/paths.js';
import { renderHaproxyConfig, renderMapFiles } from '../../src/proxy/render.js';
import { renderCrtList } from '../../src/proxy/cert-files.js';
import { defaultCertificatePem } from '../../src/proxy/default-cert.js';
import { RuntimeApi } from '../../src/proxy/runtime-api.js';
import * as cmd from '../../src/proxy/runtime-commands.js';
import { isHealthy, liveServers, parseServersState, parseShowInfo, parseStat } from '../../src/proxy/runtime-parse.js';
import { Events } from '../../src/events/events.js';
import { haproxyProcess, localProxyImage, TEST_PROXY_LINE } from './helpers/proxy-line.js';
import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';

const HAPROXY = '/usr/sbin/haproxy';
const RUN_LABEL = `gangway.dev.run=rt-${randomBytes(3).toString('hex')}`;
const hc = { path: '/up', intervalMs: 200, timeoutMs: 1000, rise: 1, fall: 1 };
const be = 'be_slot_01';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}
async function freePort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Apps whose /up answers 500 (their check fails; everything else still answers). */
const failingUp = new Set<string>();

describe.skipIf(!existsSync(HAPROXY))('runtime API against a real HAProxy', () => {
  let dir: string;
  let proc: ChildProcess;
  let api: RuntimeApi;
  let frontPort: number;
  const apps: Server[] = [];
  const appPorts: number[] = [];

  const get = async (): Promise<{ status: number; body: string }> => {
    const res = await fetch(`http://127.0.0.1:${frontPort}/`);
    return { status: res.status, body: await res.text() };
  };
  const live = async () => liveServers(be, parseServersState(await api.run(cmd.showServersState(be))), parseStat(await api.run(cmd.showStat())));

  beforeAll(async () => {
    for (const name of ['one', 'two']) {
      const s = createServer((req, res) => {
        if (req.url === '/up' && failingUp.has(name)) res.statusCode = 500;
        res.end(req.url === '/up' ? 'ok' : name);
      });
      apps.push(s);
      appPorts.push(await listen(s));
    }
    dir = mkdtempSync(join(tmpdir(), 'gangway-proxy-rt-'));
    frontPort = await freePort();
    const socket = join(dir, 'admin.sock');
    // One service in the first slot of the shared layout; its map files beside the config.
    const layout: ProxyLayout = { ...emptyLayout(), catchAll: be };
    layout.slots[0] = { backend: be, settings: { owner: 'rt', appPort: 80, healthcheck: hc, responseTimeoutMs: 60_000, maxBodyBytes: 0, forwardHeaders: true }, servers: [] };
    const maps = renderMapFiles(layout);
    for (const kind of ['slots', 'routes', 'catchAll'] as const) writeFileSync(join(dir, MAP_FILES[kind]), maps[kind]);
    writeFileSync(join(dir, CLOSING_MAP_FILE), '');
    // The HTTPS bind loads the crt-list: the default certificate, as ensureCertFiles writes it.
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'certs', 'default.pem'), await defaultCertificatePem());
    writeFileSync(join(dir, 'certs', 'crt-list.txt'), renderCrtList([]).replaceAll('/usr/local/etc/haproxy/', `${dir}/`));
    const cfg = renderHaproxyConfig(layout)
      .replace('/usr/local/etc/haproxy/admin.sock', socket)
      .replaceAll('/usr/local/etc/haproxy/', `${dir}/`)
      .replace('bind :80', `bind 127.0.0.1:${frontPort}`)
      .replace('bind :443 ', `bind 127.0.0.1:${await freePort()} `)
      .replace(/^\s*log stdout.*$/m, '');
    writeFileSync(join(dir, 'haproxy.cfg'), cfg);
    const image = TEST_PROXY_LINE === '2.6' ? undefined : await localProxyImage(new Docker(), new Events());
    const haproxy = haproxyProcess(dir, join(dir, 'haproxy.cfg'), image, RUN_LABEL);
    proc = spawn(haproxy.command, haproxy.args, { stdio: 'ignore' });
    api = new RuntimeApi(() => new Promise((resolve, reject) => {
      const s = connect(socket);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    }), { hostName: 'local-test' });
    for (let i = 0; i < 50; i++) {
      if (existsSync(socket)) break;
      await sleep(100);
    }
  });

  afterAll(async () => {
    proc?.kill('SIGTERM');
    if (TEST_PROXY_LINE !== '2.6') {
      const docker = new Docker();
      for (const c of await docker.listContainers({ all: true, filters: { label: [RUN_LABEL] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
    }
    for (const s of apps) s.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers show info and an empty backend', async () => {
    const info = await api.run(cmd.showInfo());
    expect(info).toMatch(/^Name: HAProxy/);
    expect(parseShowInfo(info).line).toBe(TEST_PROXY_LINE);
    expect(await live()).toEqual([]);
    expect((await get()).status).toBe(503);
  });

  it('adds a server that is checked but gets no traffic, then makes it ready', async () => {
    await api.run(cmd.addServer({ backend: be, name: 'app-one', address: '127.0.0.1', port: appPorts[0]!, healthcheck: hc }));
    await api.run(cmd.enableHealth(be, 'app-one'));
    await api.run(cmd.setServerState(be, 'app-one', 'drain'));
    let server = (await live())[0]!;
    // Until a settled reading: mid-check, HAProxy shows no code yet (see parseStat).
    for (let i = 0; i < 30 && !(isHealthy(server) && server.checkCode !== undefined); i++) {
      await sleep(100);
      server = (await live())[0]!;
    }
    expect(server).toMatchObject({ name: 'app-one', state: 'drain', health: 'up', checkStatus: 'L7OK', checkCode: 200 });
    expect((await get()).status).toBe(503);
    await api.run(cmd.setServerWeight(be, 'app-one', 100));
    await api.run(cmd.setServerState(be, 'app-one', 'ready'));
    expect(await get()).toEqual({ status: 200, body: 'one' });
  });

  it('switches to a second server, drains and deletes the first', async () => {
    await api.run(cmd.addServer({ backend: be, name: 'app-two', address: '127.0.0.1', port: appPorts[1]!, healthcheck: hc }));
    await api.run(cmd.enableHealth(be, 'app-two'));
    await api.run(cmd.setServerState(be, 'app-two', 'drain'));
    for (let i = 0; i < 30 && !isHealthy((await live()).find((s) => s.name === 'app-two')!); i++) await sleep(100);
    await api.run(cmd.setServerWeight(be, 'app-two', 100));
    await api.run(cmd.setServerState(be, 'app-two', 'ready'));
    await api.run(cmd.setServerState(be, 'app-one', 'drain'));
    expect((await get()).body).toBe('two');
    expect((await live()).map((s) => [s.name, s.state])).toEqual([['app-one', 'drain'], ['app-two', 'ready']]);
    await api.run(cmd.setServerState(be, 'app-one', 'maint'));
    await api.run(cmd.delServer(be, 'app-one'));
    expect((await live()).map((s) => s.name)).toEqual(['app-two']);
  });

  it('a held server keeps serving when its check would fail; checked, the same server is taken out', async () => {
    await api.run(cmd.disableHealth(be, 'app-two'));
    failingUp.add('two');
    try {
      await sleep(800);
      expect((await live()).find((s) => s.name === 'app-two')).toMatchObject({ state: 'ready', health: 'held' });
      expect(await get()).toEqual({ status: 200, body: 'two' });
      // Drained (the old server after a switch) it is still held: an undo may switch straight
      // back to it. HAProxy's status then reads DRAIN, not "no check".
      await api.run(cmd.setServerState(be, 'app-two', 'drain'));
      expect((await live()).find((s) => s.name === 'app-two')).toMatchObject({ state: 'drain', health: 'held', status: 'DRAIN' });
      await api.run(cmd.setServerState(be, 'app-two', 'ready'));
      // The control: with its check on, four failed checks at 200 ms and fall 1 take it out.
      await api.run(cmd.enableHealth(be, 'app-two'));
      await sleep(800);
      expect((await live()).find((s) => s.name === 'app-two')).toMatchObject({ state: 'ready', health: 'down' });
      expect((await get()).status).toBe(503);
      // And a server that is down when held stays down: holding never raises a dead server.
      await api.run(cmd.disableHealth(be, 'app-two'));
      await sleep(400);
      expect((await get()).status).toBe(503);
      expect((await live()).find((s) => s.name === 'app-two')).toMatchObject({ health: 'down' });
    } finally {
      failingUp.delete('two');
      await api.run(cmd.enableHealth(be, 'app-two'));
    }
    for (let i = 0; i < 30 && !isHealthy((await live()).find((s) => s.name === 'app-two')!); i++) await sleep(100);
    expect(await get()).toEqual({ status: 200, body: 'two' });
  });

  it('reports a failing check with its status and code', async () => {
    await api.run(cmd.addServer({ backend: be, name: 'app-closed', address: '127.0.0.1', port: await freePort(), healthcheck: hc }));
    await api.run(cmd.enableHealth(be, 'app-closed'));
    await api.run(cmd.setServerState(be, 'app-closed', 'drain'));
    await sleep(600);
    expect((await live()).find((s) => s.name === 'app-closed')).toMatchObject({ state: 'drain', health: 'down', checkStatus: 'L4CON' });
    await api.run(cmd.disableHealth(be, 'app-closed'));
    await api.run(cmd.setServerState(be, 'app-closed', 'maint'));
    await api.run(cmd.delServer(be, 'app-closed'));
  });

  it.each([
    ['deleting a server that is not in maint', () => cmd.delServer(be, 'app-two'), new RegExp(`HAProxy refused "del server ${be}/app-two"`)],
    ['an unknown server', () => cmd.setServerState(be, 'nope', 'ready'), /No such server/],
    ['a duplicate name', () => cmd.addServer({ backend: be, name: 'app-two', address: '127.0.0.1', port: 1, healthcheck: hc }), /Already exists/],
    ['an unknown backend', () => cmd.showServersState('be_nope'), /HAProxy refused/],
  ])('turns a refusal into a GangwayError: %s', async (_label, build, message) => {
    const err = await api.run(build()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GangwayError);
    expect((err as GangwayError).message).toMatch(message);
    expect((err as GangwayError).host).toBe('local-test');
  });

  it('answers many one-shot connections in a row', async () => {
    const started = Date.now();
    for (let i = 0; i < 50; i++) expect(await api.run(cmd.showStat())).toMatch(/^# pxname,/);
    // One connection per command is cheap on a local socket: well under 10 ms each.
    expect((Date.now() - started) / 50).toBeLessThan(20);
  });

  it('fails clearly when the socket is not there', async () => {
    const dead = new RuntimeApi(() => new Promise((resolve, reject) => {
      const s = connect(join(dir, 'missing.sock'));
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    }), { hostName: 'local-test' });
    await expect(dead.run(cmd.showInfo())).rejects.toThrow(/cannot reach the proxy's runtime API/);
  });
});
