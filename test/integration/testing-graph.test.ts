// gangway/testing against the real engine: the proxy -> app -> kv example, reached through the
// proxy's published port, and nothing left behind afterwards, even when a test throws.
import Docker from 'dockerode';
import { afterAll, describe, expect, test as base } from 'vitest';
import { RUN_LABEL, setup, vitestFixtures } from '../../src/testing/index.js';
import { app, kv, proxy } from '../../examples/testing/services.js';

const docker = new Docker();
const runIdsSeen = new Set<string>();

async function resourcesOfRun(runId: string): Promise<string[]> {
  const filters = { label: [`${RUN_LABEL}=${runId}`] };
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return [...containers.map((c) => `container ${c.Names[0]}`), ...networks.map((n) => `network ${n.Name}`), ...(volumes.Volumes ?? []).map((v) => `volume ${v.Name}`)];
}

// vitest wants file-scoped fixtures defined at the top level of the file.
const test = base.extend(vitestFixtures({ proxy, app, kv }, { scope: 'file' }));

describe('three containers through the proxy (fixtures, one run per file)', () => {
  test('a value stored through the proxy is read back through app and kv', async ({ proxy }) => {
    const stored = await proxy.http.get('/cgi-bin/set?greeting=ahoy');
    expect(stored.status).toBe(200);
    expect(await stored.text()).toContain('stored greeting');
    const read = await proxy.http.get('/cgi-bin/get?greeting');
    expect(await read.text()).toBe('ahoy\n');
  });

  test('the app serves the file kv wrote into the shared volume', async ({ proxy, kv }) => {
    await proxy.http.get('/cgi-bin/set?shared_key=from-kv');
    expect(await kv.exec(['cat', '/data/shared_key'])).toEqual({ exitCode: 0, stdout: 'from-kv', stderr: '' });
    const res = await proxy.http.get('/shared/shared_key');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('from-kv');
  });

  test('the clean hook emptied the store between tests without recreating kv', async ({ proxy, kv }) => {
    const res = await proxy.http.get('/cgi-bin/get?greeting');
    expect(res.status).toBe(502);
    expect((await kv.exec(['ls', '/data'])).stdout).toBe('');
  });

  test('containers reach each other by definition name on their networks', async ({ app, proxy }) => {
    const viaAlias = await app.exec(['wget', '-q', '-O', '-', 'http://kv:8080/']);
    expect(viaAlias.stdout).toBe('kv\n');
    const info = await app.inspect();
    expect(Object.keys(info.NetworkSettings.Networks).length).toBe(2);
    for (const net of Object.values(info.NetworkSettings.Networks)) expect(net.Aliases).toContain('app');
    // Published on loopback only.
    const bindings = (await proxy.inspect()).NetworkSettings.Ports['8080/tcp'];
    expect(bindings?.map((b) => b.HostIp)).toEqual(['127.0.0.1']);
  });
});

describe('teardown', () => {
  base('setup + teardown of the graph leaves nothing labelled with the run', async () => {
    const env = await setup(proxy);
    runIdsSeen.add(env.runId);
    expect((await resourcesOfRun(env.runId)).length).toBe(6); // 3 containers, 2 networks, 1 volume
    const report = await env.teardown();
    expect(report.removed).toEqual({ containers: 3, networks: 2, volumes: 1 });
    expect(await resourcesOfRun(env.runId)).toEqual([]);
  });

  base('a test body that throws still removes everything (await using)', async () => {
    let runId = '';
    const body = async () => {
      await using env = await setup(proxy, { keepOnFailure: false });
      runId = env.runId;
      expect((await env.container(proxy).http.get('/health')).status).toBe(200);
      throw new Error('the test failed here');
    };
    await expect(body()).rejects.toThrow('the test failed here');
    expect(runId).not.toBe('');
    expect(await resourcesOfRun(runId)).toEqual([]);
  });

  afterAll(async () => {
    // (The file-scoped fixture run is torn down after this hook; test/integration/testing-cleanup checks fixtures.)
    for (const runId of runIdsSeen) expect(await resourcesOfRun(runId)).toEqual([]);
  });
});
