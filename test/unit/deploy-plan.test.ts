import { describe, expect, it } from 'vitest';
import type { ResolvedRole } from '../../src/config/resolve.js';
import { bootBatches, describePlan, liveVersionOf, planDeploy, type ObservedHost } from '../../src/deploy/plan.js';
import { hasStarted, hasSwitched, transition, type DeployTarget } from '../../src/deploy/phases.js';
import { previousVersion, roleStatus } from '../../src/deploy/status.js';
import type { LiveServer } from '../../src/proxy/types.js';
import type { AppContainer } from '../../src/state/labels.js';

const web: ResolvedRole = { name: 'web', hosts: ['vm1', 'vm2'], proxied: true, primary: true, env: {} };
const workers: ResolvedRole = { name: 'workers', hosts: ['vm3'], cmd: ['bin/jobs'], proxied: false, primary: false, env: {} };

function container(role: string, version: string, running: boolean, deployedAt: string): AppContainer {
  const at = new Date(deployedAt);
  return { id: `${role}-${version}`, name: `hello-${role}-${version}`, service: 'hello', role, version, state: running ? 'running' : 'exited', running, createdAt: at, deployedAt: at, image: `img:${version}`, imageId: `sha:${version}` };
}

function server(name: string, state: LiveServer['state'], health: LiveServer['health'] = 'up'): LiveServer {
  return { name, address: '10.0.0.2', port: 80, state, health, checkStatus: 'L7OK', checkDescription: '', sessions: 0, weight: state === 'ready' ? 100 : 0, status: 'UP' };
}

describe('bootBatches', () => {
  it.each([
    [['a', 'b', 'c', 'd'], { percent: 100 }, [['a', 'b', 'c', 'd']]],
    [['a', 'b', 'c', 'd'], { percent: 25 }, [['a'], ['b'], ['c'], ['d']]],
    [['a', 'b', 'c'], { percent: 50 }, [['a', 'b'], ['c']]],
    [['a', 'b', 'c'], { count: 2 }, [['a', 'b'], ['c']]],
    [['a', 'b'], { count: 5 }, [['a', 'b']]],
    [['a', 'b'], { percent: 1 }, [['a'], ['b']]],
  ] as const)('%j with %j -> %j', (hosts, limit, expected) => {
    expect(bootBatches([...hosts], limit)).toEqual(expected);
  });
});

describe('liveVersionOf', () => {
  it('a proxied role serves the version its proxy routes to, not the newest running container', () => {
    const observed: ObservedHost = {
      host: 'vm1',
      containers: [container('web', '1', true, '2026-01-01'), container('web', '2', true, '2026-01-02')],
      proxyServers: [server('hello-web-1', 'ready'), server('hello-web-2', 'drain')],
    };
    expect(liveVersionOf(observed, web)).toBe('1');
  });

  it('a role without proxy serves its newest running container', () => {
    const observed: ObservedHost = { host: 'vm3', containers: [container('workers', '1', true, '2026-01-01'), container('workers', '2', true, '2026-01-02'), container('workers', '3', false, '2026-01-03')] };
    expect(liveVersionOf(observed, workers)).toBe('2');
  });

  it('a fresh host serves nothing', () => {
    expect(liveVersionOf({ host: 'vm1', containers: [], proxyServers: [] }, web)).toBeUndefined();
  });
});

describe('planDeploy', () => {
  const observed = new Map<string, ObservedHost>([
    ['vm1', { host: 'vm1', containers: [container('web', '1', true, '2026-01-01')], proxyServers: [server('hello-web-1', 'ready')] }],
    ['vm2', { host: 'vm2', containers: [container('web', '2', true, '2026-01-02')], proxyServers: [server('hello-web-2', 'ready')] }],
    ['vm3', { host: 'vm3', containers: [] }],
  ]);
  const plan = planDeploy({ deployment: { service: 'hello' }, version: '2', roles: [web, workers], observed });

  it('lists every (host, role), primary role first, and names the primary host', () => {
    expect(plan.targets.map((t) => `${t.host}/${t.role}`)).toEqual(['vm1/web', 'vm2/web', 'vm3/workers']);
    expect(plan.primaryHost).toBe('vm1');
  });

  it('replaces the running old version and skips a host already on the new one', () => {
    const [vm1, vm2, vm3] = plan.targets;
    expect(vm1).toMatchObject({ newContainer: 'hello-web-2', oldContainers: ['hello-web-1'], liveVersion: '1', alreadyLive: false });
    expect(vm2).toMatchObject({ newContainer: 'hello-web-2', oldContainers: [], liveVersion: '2', alreadyLive: true });
    expect(vm3).toMatchObject({ newContainer: 'hello-workers-2', oldContainers: [], alreadyLive: false });
    expect(vm3!.liveVersion).toBeUndefined();
  });

  it('describes the plan host by host for --dry-run', () => {
    const lines = describePlan(plan, { image: 'reg/hello', bootLimit: { count: 1 } });
    expect(lines[0]).toBe('deploy reg/hello:2');
    expect(lines[1]).toBe('web: [vm1] then [vm2]');
    expect(lines[2]).toBe('workers: [vm3]');
    expect(lines).toContain('[vm2 web] hello-web-2 already live: nothing to do');
    expect(lines.find((l) => l.startsWith('[vm1 web]'))).toContain('from 1: pull -> start hello-web-2 -> add to proxy (no traffic) -> wait healthy -> uptests -> switch proxy -> drain -> stop hello-web-1');
    expect(lines.find((l) => l.startsWith('[vm3 workers]'))).toContain('wait for the first healthy web container on vm1');
  });
});

describe('describePlan batches every role by boot.limit (issue 12 item 7)', () => {
  const three = ['vm1', 'vm2', 'vm3'];
  const plan = planDeploy({ deployment: { service: 'hello' }, version: '2', roles: [{ ...web, hosts: three }, { ...workers, hosts: three }], observed: new Map() });
  it.each([
    [{ percent: 50 }, ['web: [vm1, vm2] then [vm3]', 'workers: [vm1, vm2] then [vm3]']],
    [{ count: 1 }, ['web: [vm1] then [vm2] then [vm3]', 'workers: [vm1] then [vm2] then [vm3]']],
    [{ percent: 100 }, ['web: [vm1, vm2, vm3]', 'workers: [vm1, vm2, vm3]']],
  ] as const)('%j', (bootLimit, expected) => {
    expect(describePlan(plan, { image: 'reg/hello', bootLimit }).slice(1, 3)).toEqual(expected);
  });
});

describe('planDeploy after an interrupted run', () => {
  it('resumes a proxied host whose proxy already routes to the new version, and still retires the old one', () => {
    const observed = new Map<string, ObservedHost>([
      ['vm1', { host: 'vm1', containers: [container('web', '1', true, '2026-01-01'), container('web', '2', true, '2026-01-02')], proxyServers: [server('hello-web-2', 'ready'), server('hello-web-1', 'drain')] }],
    ]);
    const [t] = planDeploy({ deployment: { service: 'hello' }, version: '2', roles: [{ ...web, hosts: ['vm1'] }], observed }).targets;
    expect(t).toMatchObject({ alreadyLive: true, oldContainers: ['hello-web-1'] });
  });

  it('never takes an ungated container beside the old one for live when no proxy vouches for it', () => {
    const observed = new Map<string, ObservedHost>([
      ['vm3', { host: 'vm3', containers: [container('workers', '1', true, '2026-01-01'), container('workers', '2', true, '2026-01-02')] }],
    ]);
    const [t] = planDeploy({ deployment: { service: 'hello' }, version: '2', roles: [workers], observed }).targets;
    expect(t).toMatchObject({ alreadyLive: false, oldContainers: ['hello-workers-1'] });
  });

  it('never starts over a proxied container that is not routed yet: it is replaced, not trusted', () => {
    const observed = new Map<string, ObservedHost>([
      ['vm1', { host: 'vm1', containers: [container('web', '1', true, '2026-01-01'), container('web', '2', true, '2026-01-02')], proxyServers: [server('hello-web-1', 'ready'), server('hello-web-2', 'drain')] }],
    ]);
    const [t] = planDeploy({ deployment: { service: 'hello' }, version: '2', roles: [{ ...web, hosts: ['vm1'] }], observed }).targets;
    expect(t).toMatchObject({ alreadyLive: false, liveVersion: '1', oldContainers: ['hello-web-1'] });
  });
});

describe('deploy target states', () => {
  const target = (): DeployTarget => ({ host: 'vm1', role: 'web', proxied: true, newContainer: 'x', oldContainers: [], alreadyLive: false, state: 'pending', trail: ['pending'] });

  it('follows the named transitions and records them', () => {
    const t = target();
    for (const s of ['pulled', 'started', 'healthy', 'uptested', 'switched'] as const) transition(t, s);
    expect(hasStarted(t)).toBe(true);
    expect(hasSwitched(t)).toBe(true);
    expect(t.trail).toEqual(['pending', 'pulled', 'started', 'healthy', 'uptested', 'switched']);
  });

  it('refuses to skip the gates', () => {
    const t = target();
    transition(t, 'pulled');
    transition(t, 'started');
    expect(() => transition(t, 'switched')).toThrow(/started -> switched/);
  });

  it('a failed target can only be rolled back', () => {
    const t = target();
    transition(t, 'failed');
    expect(() => transition(t, 'done')).toThrow();
    transition(t, 'rolled-back');
    expect(t.state).toBe('rolled-back');
  });
});

describe('status and rollback target', () => {
  const observed: ObservedHost = {
    host: 'vm1',
    containers: [container('web', '1', false, '2026-01-01'), container('web', '2', false, '2026-01-02'), container('web', '3', true, '2026-01-03')],
    proxyServers: [server('hello-web-3', 'ready')],
  };

  it('reports live version, proxy target, health and retained versions newest first', () => {
    expect(roleStatus(observed, web)).toEqual({ host: 'vm1', role: 'web', liveVersion: '3', proxyTargets: ['hello-web-3'], health: 'up', runningVersions: ['3'], retainedVersions: ['2', '1'] });
  });

  it('says when the live route names an address that is no longer its container\'s', () => {
    const live = { ...container('web', '3', true, '2026-01-03'), addresses: { gangway: '10.0.0.2' } };
    expect(roleStatus({ ...observed, containers: [live] }, web).health).toBe('up');
    const moved = { ...live, addresses: { gangway: '10.0.0.7' } };
    expect(roleStatus({ ...observed, containers: [moved] }, web).health).toBe('stale route: the proxy sends to 10.0.0.2, hello-web-3 is at 10.0.0.7 (gangway deploy or setup repairs it)');
  });

  it('rolls back to the newest version that is not live', () => {
    expect(previousVersion(observed, web)).toBe('2');
  });

  it('has nothing to roll back to on a host with one version', () => {
    expect(previousVersion({ host: 'vm1', containers: [container('web', '3', true, '2026-01-03')] }, web)).toBeUndefined();
  });
});
