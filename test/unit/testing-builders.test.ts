// Pure pieces of gangway/testing: create bodies, graph planning, ports, /proc/net/tcp, stale runs.
import { describe, expect, test } from 'vitest';
import { buildContainerPlan, buildNetworkCreate, buildVolumeCreate } from '../../src/testing/create-options.js';
import { container, network, volume } from '../../src/testing/definitions.js';
import { planGraph, nodeKey, runGraph } from '../../src/testing/graph.js';
import { manualCleanupCommands, resourceName, runLabels } from '../../src/testing/labels.js';
import { portKey, publishedPorts, sortedPortKeys } from '../../src/testing/ports.js';
import { listeningPorts } from '../../src/testing/proc-net-tcp.js';
import { staleRunIds } from '../../src/testing/cleanup.js';
import { GangwayError } from '../../src/errors.js';

const owner = { runId: 'r1', pid: 42, ownerHost: 'ci' };

describe('buildContainerPlan', () => {
  const front = network('front');
  const back = network('back');
  const data = volume('data');
  const def = container('app', {
    image: 'x',
    cmd: ['serve'],
    env: { A: '1' },
    ports: [8080, '53/udp'],
    mounts: [{ volume: data, target: '/data' }, { bind: '/tmp/cfg', target: '/cfg', readOnly: true }],
    networks: [front, back],
    labels: { 'gangway.testing.run': 'forged', mine: 'yes' },
    healthcheck: { test: ['CMD', 'true'], intervalMs: 250 },
    createOptions: { HostConfig: { Memory: 1024 } },
  });
  const plan = buildContainerPlan(def, owner, 'img:1');

  test.each([
    ['name', plan.create.name, 'gwt-r1-app'],
    ['image', plan.create.Image, 'img:1'],
    ['cmd', plan.create.Cmd, ['serve']],
    ['env', plan.create.Env, ['A=1']],
    ['exposed ports', plan.create.ExposedPorts, { '8080/tcp': {}, '53/udp': {} }],
    ['ports on loopback only', plan.create.HostConfig?.PortBindings, { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }] }],
    ['volume mount by run name', plan.create.HostConfig?.Mounts?.[0], { Type: 'volume', Source: 'gwt-r1-data', Target: '/data', ReadOnly: false }],
    ['bind mount', plan.create.HostConfig?.Mounts?.[1], { Type: 'bind', Source: '/tmp/cfg', Target: '/cfg', ReadOnly: true }],
    ['first network at create', plan.create.HostConfig?.NetworkMode, 'gwt-r1-front'],
    ['alias is the definition name', plan.create.NetworkingConfig, { EndpointsConfig: { 'gwt-r1-front': { Aliases: ['app'] } } }],
    ['other networks connected before start', plan.connectBeforeStart, [{ network: 'gwt-r1-back', aliases: ['app'] }]],
    ['health interval in ns', plan.create.Healthcheck?.Interval, 250_000_000],
    ['raw options merged into HostConfig', plan.create.HostConfig?.Memory, 1024],
    ['run labels win over user labels', plan.create.Labels?.['gangway.testing.run'], 'r1'],
    ['user labels kept', plan.create.Labels?.mine, 'yes'],
  ])('%s', (_what, actual, expected) => {
    expect(actual).toEqual(expected);
  });

  test('volumes and networks carry the run labels', () => {
    expect(buildVolumeCreate(data, owner)).toEqual({ Name: 'gwt-r1-data', Driver: 'local', Labels: runLabels(owner, 'data') });
    expect(buildNetworkCreate(front, owner)).toMatchObject({ Name: 'gwt-r1-front', Driver: 'bridge', Labels: runLabels(owner, 'front') });
  });
});

describe('definitions', () => {
  test('are frozen and `with` returns a new definition', () => {
    const env = { A: '1' };
    const a = container('a', { image: 'x', env });
    env.A = 'changed';
    const b = a.with({ env: { A: '2' } });
    expect(a.options.env).toEqual({ A: '1' });
    expect(b.options.env).toEqual({ A: '2' });
    expect(Object.isFrozen(a)).toBe(true);
    expect(() => { (a.options as { image: string }).image = 'y'; }).toThrow();
  });

  test.each(['App', 'has space', '', '-x'])('rejects the name %j', (name) => {
    expect(() => container(name, { image: 'x' })).toThrow(GangwayError);
  });
});

describe('planGraph', () => {
  const net = network('n');
  const db = container('db', { image: 'x', networks: [net] });
  const cache = container('cache', { image: 'x', networks: [net] });
  const app = container('app', { image: 'x', dependsOn: [db, cache], networks: [net] });

  test('dependencies come first, each once', () => {
    expect(planGraph([app]).map((n) => nodeKey(n.def))).toEqual(['network:n', 'container:db', 'container:cache', 'container:app']);
  });

  test('dependents are recorded for teardown order', () => {
    const byKey = new Map(planGraph([app]).map((n) => [nodeKey(n.def), n]));
    expect(byKey.get('container:db')?.dependents).toEqual(['container:app']);
    expect(byKey.get('network:n')?.dependents).toEqual(['container:db', 'container:cache', 'container:app']);
  });

  test('a cycle is a config error naming the path', () => {
    const a: { def?: ReturnType<typeof container> } = {};
    const b = container('b', { image: 'x', dependsOn: [{ kind: 'container', name: 'a', options: { image: 'x', get dependsOn() { return [b]; } }, with: () => a.def! } as never] });
    expect(() => planGraph([b])).toThrow(/dependency cycle: container:b -> container:a -> container:b/);
  });

  test('two different definitions with one name are refused', () => {
    expect(() => planGraph([container('x', { image: 'a' }), container('x', { image: 'b' })])).toThrow(/two different container definitions/);
  });

  test('runGraph starts independent nodes together and dependents after', async () => {
    const log: string[] = [];
    const nodes = planGraph([app]);
    await runGraph(nodes, (n) => n.dependsOn, async (n) => {
      log.push(`start ${n.def.name}`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`end ${n.def.name}`);
    });
    expect(log.slice(0, 2)).toEqual(['start n', 'end n']);
    expect(log.slice(2, 4).sort()).toEqual(['start cache', 'start db']);
    expect(log.at(-2)).toBe('start app');
  });
});

describe('ports', () => {
  test.each([[8080, '8080/tcp'], ['53/udp', '53/udp'], ['80', '80/tcp']])('portKey(%j) = %s', (input, key) => {
    expect(portKey(input as never)).toBe(key);
  });

  test('sorted numerically, not as text', () => {
    expect(sortedPortKeys(['8080/tcp', '443/tcp', '80/tcp', '80/udp'])).toEqual(['80/tcp', '80/udp', '443/tcp', '8080/tcp']);
  });

  test('published ports read from inspect', () => {
    const info = { NetworkSettings: { Ports: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '32768' }], '9/tcp': null } } } as never;
    expect([...publishedPorts(info)]).toEqual([['80/tcp', 32768]]);
  });
});

test('listeningPorts reads LISTEN sockets of /proc/net/tcp and tcp6', () => {
  const text = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:0050 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
   0: 00000000000000000000000000000000:1538 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 3`;
  expect([...listeningPorts(text)].sort()).toEqual([5432, 8080]);
});

describe('staleRunIds', () => {
  const labels = (runId: string, pid: number, host = 'ci') => ({ 'gangway.testing.run': runId, 'gangway.testing.pid': String(pid), 'gangway.testing.owner-host': host });
  const alive = (pid: number) => pid === 1;
  test.each([
    ['dead owner on this machine', [labels('a', 999)], ['a']],
    ['live owner', [labels('b', 1)], []],
    ['other machine (pid means nothing here)', [labels('c', 999, 'other')], []],
    ['own live run', [labels('mine', 999)], []],
    ['deduplicated across resources', [labels('d', 999), labels('d', 999)], ['d']],
    ['no labels', [undefined], []],
  ])('%s', (_what, sets, expected) => {
    expect(staleRunIds(sets, 'ci', alive, new Set(['mine']))).toEqual(expected);
  });
});

test('resource names and manual cleanup commands', () => {
  expect(resourceName('ab12', 'db')).toBe('gwt-ab12-db');
  expect(manualCleanupCommands('ab12')[0]).toBe('docker rm -f -v $(docker ps -aq --filter label=gangway.testing.run=ab12)');
});
