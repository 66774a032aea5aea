import { describe, expect, it } from 'vitest';
import { appLabelFilters, appLabels, containerName, parseAppContainers, planRetention, type AppContainer } from '../../src/state/labels.js';

describe('containerName', () => {
  it.each([
    ['hello', 'web', '1.2.0', 'hello-web-1.2.0'],
    ['hello', 'workers', 'v2', 'hello-workers-v2'],
    ['hello', 'web', '1.0.0+build.7', 'hello-web-1.0.0_build.7'],
    ['hello', 'web', 'sha/abc', 'hello-web-sha_abc'],
  ])('%s %s %s -> %s', (service, role, version, expected) => {
    expect(containerName({ service }, role, version)).toBe(expected);
  });
});

describe('appLabels', () => {
  const at = new Date('2026-01-02T03:04:05.000Z');
  it('holds service, role, version, managed and deployed_at', () => {
    expect(appLabels({ deployment: { service: 'hello' }, role: 'web', version: '1.0.0', deployedAt: at })).toEqual({
      'gangway.service': 'hello',
      'gangway.role': 'web',
      'gangway.version': '1.0.0',
      'gangway.managed': 'app',
      'gangway.deployed_at': '2026-01-02T03:04:05.000Z',
    });
  });
  it('adds extra labels', () => {
    expect(appLabels({ deployment: { service: 's' }, role: 'r', version: 'v', deployedAt: at, extra: { 'gangway.dev': 'blocks' } })['gangway.dev']).toBe('blocks');
  });
  it.each(['gangway.version', 'gangway.managed'])('refuses to let an extra label override %s', (key) => {
    expect(() => appLabels({ deployment: { service: 's' }, role: 'r', version: 'v', extra: { [key]: 'x' } })).toThrow(/reserved/);
  });
});

describe('appLabelFilters', () => {
  it.each([
    [undefined, ['gangway.service=hello', 'gangway.managed=app']],
    ['web', ['gangway.service=hello', 'gangway.managed=app', 'gangway.role=web']],
  ])('role %s', (role, expected) => {
    expect(appLabelFilters({ service: 'hello' }, role)).toEqual(expected);
  });
});

describe('parseAppContainers', () => {
  const labels = (version: string, extra: Record<string, string> = {}) => ({
    'gangway.service': 'hello', 'gangway.role': 'web', 'gangway.version': version, 'gangway.managed': 'app', ...extra,
  });
  it('reads role, version, state and times back from labels', () => {
    const [c] = parseAppContainers([{ Id: 'abc', Names: ['/hello-web-1'], Labels: labels('1', { 'gangway.deployed_at': '2026-01-01T00:00:00.000Z' }), State: 'running', Created: 1_700_000_000, Image: 'img:1', ImageID: 'sha256:1' }]);
    expect(c).toMatchObject({ id: 'abc', name: 'hello-web-1', role: 'web', version: '1', state: 'running', running: true, image: 'img:1', imageId: 'sha256:1' });
    expect(c!.createdAt.toISOString()).toBe('2023-11-14T22:13:20.000Z');
    expect(c!.deployedAt.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
  it('reads the container\'s addresses by network, none for a stopped one', () => {
    const base = { Id: 'a', Names: ['/hello-web-1'], Labels: labels('1'), State: 'running' };
    const [running] = parseAppContainers([{ ...base, NetworkSettings: { Networks: { gangway: { IPAddress: '172.18.0.3' }, bridge: { IPAddress: '' } } } }]);
    expect(running!.addresses).toEqual({ gangway: '172.18.0.3' });
    const [stopped] = parseAppContainers([{ ...base, State: 'exited', NetworkSettings: { Networks: { gangway: { IPAddress: '' } } } }]);
    expect(stopped!.addresses).toBeUndefined();
  });
  it.each([
    ['no labels', undefined],
    ['a proxy container', { ...labels('1'), 'gangway.managed': 'proxy' }],
    ['no version', { 'gangway.service': 'hello', 'gangway.role': 'web', 'gangway.managed': 'app' }],
  ])('skips %s', (_, l) => {
    expect(parseAppContainers([{ Id: 'x', Labels: l as Record<string, string> | undefined }])).toEqual([]);
  });
  it('falls back to Created when deployed_at is missing or invalid', () => {
    const [c] = parseAppContainers([{ Id: 'x', Labels: labels('1', { 'gangway.deployed_at': 'garbage' }), Created: 10, State: 'exited' }]);
    expect(c!.deployedAt.getTime()).toBe(10_000);
    expect(c!.running).toBe(false);
  });
});

describe('planRetention', () => {
  const c = (version: string, day: number, opts: { running?: boolean; role?: string; imageId?: string } = {}): AppContainer => ({
    id: `${opts.role ?? 'web'}-${version}`, name: `hello-${opts.role ?? 'web'}-${version}`, service: 'hello', role: opts.role ?? 'web', version,
    state: opts.running ? 'running' : 'exited', running: !!opts.running, createdAt: new Date(day * 86_400_000),
    deployedAt: new Date(day * 86_400_000), image: `img:${version}`, imageId: opts.imageId ?? `sha-${version}`,
  });
  const names = (list: AppContainer[]) => list.map((x) => x.name);

  it.each([
    { retain: 2, keep: ['hello-web-v4', 'hello-web-v3'], remove: ['hello-web-v2', 'hello-web-v1'], images: ['sha-v1', 'sha-v2'] },
    { retain: 0, keep: [], remove: ['hello-web-v4', 'hello-web-v3', 'hello-web-v2', 'hello-web-v1'], images: ['sha-v1', 'sha-v2', 'sha-v3', 'sha-v4'] },
    { retain: 10, keep: ['hello-web-v4', 'hello-web-v3', 'hello-web-v2', 'hello-web-v1'], remove: [], images: [] },
  ])('retain $retain keeps the newest stopped versions', ({ retain, keep, remove, images }) => {
    const plan = planRetention([c('v1', 1), c('v2', 2), c('v3', 3), c('v4', 4), c('v5', 5, { running: true })], retain);
    expect(names(plan.keepContainers)).toEqual(keep);
    expect(names(plan.removeContainers)).toEqual(remove);
    expect(plan.removeImageIds).toEqual(images);
  });

  it('never touches running containers or protected versions', () => {
    const plan = planRetention([c('v1', 1), c('v2', 2), c('v3', 3, { running: true })], 0, ['v2']);
    expect(names(plan.removeContainers)).toEqual(['hello-web-v1']);
  });

  it('counts retain per role', () => {
    const plan = planRetention([c('v1', 1), c('v2', 2), c('v1', 1, { role: 'workers' }), c('v2', 2, { role: 'workers' })], 1);
    expect(names(plan.removeContainers).sort()).toEqual(['hello-web-v1', 'hello-workers-v1']);
  });

  it('keeps an image still used by a kept or running container', () => {
    const plan = planRetention([c('v1', 1, { imageId: 'shared' }), c('v2', 2, { imageId: 'shared', running: true })], 0);
    expect(names(plan.removeContainers)).toEqual(['hello-web-v1']);
    expect(plan.removeImageIds).toEqual([]);
  });
});
