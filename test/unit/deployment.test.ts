// Destinations side by side (issue 14): production and `-d staging` of one service share hosts,
// and each sees, names, locks and logs only its own state. Without a destination every key and
// name is what it was before destinations, so hosts deployed earlier need no migration.
import { describe, expect, it } from 'vitest';
import { removeLeftoverAppContainer } from '../../src/app/container.js';
import { envFilePath } from '../../src/app/env-file.js';
import { proxyTargetFromConfig } from '../../src/config/proxy-target.js';
import type { Config } from '../../src/config/schema.js';
import { planDeploy } from '../../src/deploy/plan.js';
import type { Host } from '../../src/hosts/host.js';
import { auditLogPath, readAuditCommand } from '../../src/state/audit.js';
import { deploymentKey, deploymentOf, describeDeployment, sameDeployment, type Deployment } from '../../src/state/deployment.js';
import { appContainersOf, appLabelFilters, appLabels, containerName, labelsBelongTo, type ContainerSummaryLike } from '../../src/state/labels.js';
import { acquireLockCommand, lockHeldError, lockPath, lockStatusCommand, newLockDetails, parseLockDetails, releaseLockCommand } from '../../src/state/lock.js';

const production: Deployment = { service: 'hello' };
const staging: Deployment = { service: 'hello', destination: 'staging' };

describe('deploymentKey', () => {
  it.each([
    [production, 'hello'],
    [staging, 'hello@staging'],
    [{ service: 'my.app_1', destination: 'EU-west_2' }, 'my.app_1@EU-west_2'],
    [{ service: 'hello', destination: '' }, 'hello'],
  ])('%j -> %s', (d, key) => {
    expect(deploymentKey(d)).toBe(key);
  });
  it('tells apart pairs that a dash would merge', () => {
    // service "a-b" without destination, service "a" with destination "b": a "-" would say "a-b" twice.
    expect(deploymentKey({ service: 'a-b' })).not.toBe(deploymentKey({ service: 'a', destination: 'b' }));
  });
  it('names the deployment for messages', () => {
    expect(describeDeployment(production)).toBe('hello');
    expect(describeDeployment(staging)).toBe('hello (destination staging)');
  });
});

describe('deploymentOf (the loaded config -> its deployment)', () => {
  it('carries the -d destination, and none without -d', () => {
    expect(deploymentOf({ config: { service: 'hello' }, destination: 'staging' })).toEqual(staging);
    expect(deploymentOf({ config: { service: 'hello' } })).toEqual(production);
    expect(deploymentOf({ config: { service: 'hello' } })).not.toHaveProperty('destination');
  });
  it('sameDeployment reads an empty destination as none', () => {
    expect(sameDeployment({ service: 'hello', destination: '' }, production)).toBe(true);
    expect(sameDeployment(staging, production)).toBe(false);
    expect(sameDeployment(staging, { service: 'hello', destination: 'Staging' })).toBe(false);
  });
});

describe('container names and labels of a destination', () => {
  it('puts the destination between role and version; no destination keeps today\'s name', () => {
    expect(containerName(production, 'web', '1.0.0')).toBe('hello-web-1.0.0');
    expect(containerName(staging, 'web', '1.0.0')).toBe('hello-web-staging-1.0.0');
    expect(containerName(staging, 'web', '1.0.0+b.7')).toBe('hello-web-staging-1.0.0_b.7');
  });
  it('labels a destination\'s containers with gangway.destination, and only those', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    expect(appLabels({ deployment: staging, role: 'web', version: '1', deployedAt: at })).toMatchObject({ 'gangway.service': 'hello', 'gangway.destination': 'staging' });
    expect(appLabels({ deployment: production, role: 'web', version: '1', deployedAt: at })).not.toHaveProperty(['gangway.destination']);
  });
  it('reserves gangway.destination', () => {
    expect(() => appLabels({ deployment: production, role: 'web', version: '1', extra: { 'gangway.destination': 'staging' } })).toThrow(/reserved/);
  });
  it('filters a destination on the engine side; production cannot be (no "label absent" filter)', () => {
    expect(appLabelFilters(staging, 'web')).toEqual(['gangway.service=hello', 'gangway.managed=app', 'gangway.destination=staging', 'gangway.role=web']);
    expect(appLabelFilters(production)).toEqual(['gangway.service=hello', 'gangway.managed=app']);
  });
});

describe('listings: production never sees staging, nor the reverse', () => {
  const summary = (name: string, d: Deployment, extra: Record<string, string> = {}): ContainerSummaryLike => ({
    Id: name, Names: [`/${name}`], State: 'running', Labels: { ...appLabels({ deployment: d, role: 'web', version: '1', deployedAt: new Date(0) }), ...extra },
  });
  const host = [
    summary('hello-web-1', production),
    summary('hello-web-staging-1', staging),
    summary('hello-web-qa-1', { service: 'hello', destination: 'qa' }),
    summary('other-web-1', { service: 'other' }),
    { Id: 'proxy', Names: ['/gangway-proxy'], Labels: { 'gangway.managed': 'proxy' } },
  ];
  it.each([
    [production, ['hello-web-1']],
    [staging, ['hello-web-staging-1']],
    [{ service: 'other' }, ['other-web-1']],
    [{ service: 'other', destination: 'staging' }, []],
  ])('%j sees %j', (d, names) => {
    expect(appContainersOf(host, d).map((c) => c.name)).toEqual(names);
  });
  it('reads the destination back from the label', () => {
    expect(appContainersOf(host, staging)[0]).toMatchObject({ service: 'hello', destination: 'staging' });
    expect(appContainersOf(host, production)[0]).not.toHaveProperty('destination');
  });
  it('goes by labels, not names: a production container named like staging\'s is production\'s', () => {
    const lookalike = summary('hello-web-staging-1', production);
    expect(appContainersOf([lookalike], production)).toHaveLength(1);
    expect(appContainersOf([lookalike], staging)).toEqual([]);
  });
  it('labelsBelongTo: an empty destination label is no destination; other managers are nobody\'s', () => {
    expect(labelsBelongTo({ 'gangway.service': 'hello', 'gangway.managed': 'app', 'gangway.destination': '' }, production)).toBe(true);
    expect(labelsBelongTo({ 'gangway.service': 'hello', 'gangway.managed': 'exec', 'gangway.destination': 'staging' }, staging)).toBe(false);
    expect(labelsBelongTo({ 'gangway.managed': 'app' }, production)).toBe(false);
  });
  it('a plan of staging names staging\'s containers and never retires production\'s', () => {
    const web = { name: 'web', hosts: ['vm1'], primary: true, proxied: true, env: {} } as never;
    const observed = new Map([['vm1', { host: 'vm1', containers: appContainersOf(host, staging) }]]);
    const [t] = planDeploy({ deployment: staging, version: '2', roles: [web], observed }).targets;
    expect(t).toMatchObject({ newContainer: 'hello-web-staging-2', oldContainers: ['hello-web-staging-1'] });
  });
});

describe('files and lock keyed by the deployment', () => {
  it('keeps the paths of hosts deployed before destinations', () => {
    expect(lockPath(production)).toBe('/var/lib/gangway/locks/hello');
    expect(auditLogPath(production)).toBe('/var/lib/gangway/audit/hello.log');
    expect(envFilePath(production, 'web')).toBe('/var/lib/gangway/env/hello-web.env');
  });
  it('gives a destination its own lock, audit log and env files', () => {
    expect(lockPath(staging)).toBe('/var/lib/gangway/locks/hello@staging');
    expect(auditLogPath(staging)).toBe('/var/lib/gangway/audit/hello@staging.log');
    expect(envFilePath(staging, 'web')).toBe('/var/lib/gangway/env/hello@staging-web.env');
    expect(readAuditCommand(staging, 5).command).toBe('if [ -f /var/lib/gangway/audit/hello@staging.log ]; then tail -n 5 /var/lib/gangway/audit/hello@staging.log; fi');
  });
  it('locks: the details name their deployment, which gives the path', () => {
    const details = newLockDetails({ deployment: staging, version: '2', holder: 'ann@box', pid: 1, id: 'x', now: new Date(0) });
    expect(details).toMatchObject({ service: 'hello', destination: 'staging' });
    expect(acquireLockCommand(details).command).toContain('mkdir /var/lib/gangway/locks/hello@staging ');
    expect(parseLockDetails(JSON.stringify(details))).toEqual(details);
    expect(newLockDetails({ deployment: production, version: '2' })).not.toHaveProperty('destination');
    expect(releaseLockCommand(staging).command).toBe('rm -rf /var/lib/gangway/locks/hello@staging');
    expect(lockStatusCommand(staging).command).toContain('[ -d /var/lib/gangway/locks/hello@staging ]');
  });
  it('says whose lock is held', () => {
    expect(lockHeldError(staging, 'vm1', undefined).message).toMatch(/^the deploy lock of hello \(destination staging\) is held/);
  });
});

describe('proxy target', () => {
  const host = { name: 'vm1' } as Host;
  const config = { service: 'hello', proxy: { app_port: 80, healthcheck: { path: '/up', interval: 1000, timeout: 500 } } } as Config;
  it('carries the destination of the loaded config, and none without -d', () => {
    expect(proxyTargetFromConfig(host, { config, destination: 'staging' })).toMatchObject({ service: 'hello', destination: 'staging' });
    expect(proxyTargetFromConfig(host, { config })).not.toHaveProperty('destination');
  });
  it('gives the redirect the HTTPS port the proxy publishes (proxy.https_port, else 443), and no redirect without ssl_redirect', () => {
    const tls = (more: Record<string, unknown>) => ({ ...config, proxy: { ...config.proxy, hosts: ['a.test'], ssl: { certificate_pem: 'C', private_key_pem: 'K' }, ssl_redirect: true, ...more } }) as Config;
    expect(proxyTargetFromConfig(host, { config: tls({ https_port: 8443 }) })).toMatchObject({ sslRedirect: true, redirectPort: 8443 });
    expect(proxyTargetFromConfig(host, { config: tls({}) })).toMatchObject({ sslRedirect: true, redirectPort: 443 });
    expect(proxyTargetFromConfig(host, { config: tls({ https_port: 8443, ssl_redirect: false }) })).not.toHaveProperty('redirectPort');
  });
});

describe('removeLeftoverAppContainer: a name is not an identity', () => {
  const fakeHost = (labels: Record<string, string> | undefined, removed: string[]): Host => ({
    name: 'vm1',
    docker: async () => ({
      getContainer: (name: string) => ({
        inspect: async () => {
          if (!labels) throw Object.assign(new Error('no such container'), { statusCode: 404 });
          return { Config: { Labels: labels } };
        },
        remove: async () => { removed.push(name); },
      }),
    }),
  }) as unknown as Host;
  const labelsOf = (d: Deployment) => appLabels({ deployment: d, role: 'web', version: '1', deployedAt: new Date(0) });

  it('removes its own deployment\'s leftover', async () => {
    const removed: string[] = [];
    expect(await removeLeftoverAppContainer(fakeHost(labelsOf(staging), removed), 'hello-web-staging-1', staging)).toBe(true);
    expect(removed).toEqual(['hello-web-staging-1']);
  });
  it('finds nothing to remove', async () => {
    expect(await removeLeftoverAppContainer(fakeHost(undefined, []), 'hello-web-staging-1', staging)).toBe(false);
  });
  it.each([
    ['production\'s container of version staging-1', labelsOf(production)],
    ['a container gangway did not make', {}],
  ])('refuses %s', async (_, labels) => {
    const removed: string[] = [];
    await expect(removeLeftoverAppContainer(fakeHost(labels, removed), 'hello-web-staging-1', staging)).rejects.toMatchObject({ code: 'operation', message: expect.stringMatching(/not an app container of hello \(destination staging\)/) });
    expect(removed).toEqual([]);
  });
});
