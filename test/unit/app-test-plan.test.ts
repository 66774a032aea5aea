import { describe, expect, test } from 'vitest';
import type { ResolvedRole } from '../../src/config/resolve.js';
import { appTestTargetName, healthWaitFor, planAppTest, type AppTestInput } from '../../src/app-test/plan.js';
import { imageHasHealthcheck } from '../../src/app-test/run.js';

const web: ResolvedRole = { name: 'web', hosts: ['localhost'], proxied: true, primary: true, env: { MODE: 'test' } };
const workers: ResolvedRole = { name: 'workers', hosts: ['localhost'], cmd: ['/app/worker'], proxied: false, primary: false, env: { MODE: 'test', QUEUE: 'q' } };

const input = (patch: Partial<AppTestInput> = {}): AppTestInput => ({
  service: 'hello',
  roles: [web, workers],
  image: 'gangway-demo/hello:1.0.0',
  appPort: 80,
  healthcheckPath: '/up',
  healthTimeoutMs: 20_000,
  imageHasHealthcheck: true,
  envSecret: { HELLO_SECRET: 's3cret' },
  rolesWithUptests: new Set(),
  ...patch,
});

describe('planAppTest', () => {
  test('starts the primary role with its env, secrets, app port and network alias', () => {
    const plan = planAppTest(input());
    expect(plan.targets).toHaveLength(1);
    const [t] = plan.targets;
    expect(t!.role).toBe('web');
    expect(t!.targetName).toBe('hello-web');
    expect(t!.env).toEqual({ MODE: 'test', HELLO_SECRET: 's3cret' });
    const o = t!.definition.options;
    expect(o.image).toBe('gangway-demo/hello:1.0.0');
    expect(o.ports).toEqual([80]);
    expect(o.env).toEqual({ MODE: 'test', HELLO_SECRET: 's3cret' });
    expect(o.networks).toEqual([plan.network]);
    expect(o.cmd).toBeUndefined();
  });

  test('leaves out other roles without uptests, and says why', () => {
    expect(planAppTest(input()).skipped).toEqual([{ role: 'workers', reason: 'no uptests in the image' }]);
  });

  test('starts another role that has uptests with its own cmd, unpublished', () => {
    const plan = planAppTest(input({ rolesWithUptests: new Set(['workers']) }));
    const w = plan.targets.find((t) => t.role === 'workers')!;
    expect(w.definition.options.cmd).toEqual(['/app/worker']);
    expect(w.definition.options.ports).toBeUndefined();
    expect(w.env.QUEUE).toBe('q');
    expect(plan.skipped).toEqual([]);
  });

  test("uses the primary role's cmd", () => {
    const plan = planAppTest(input({ roles: [{ ...web, cmd: ['/app/start', '--fast'] }] }));
    expect(plan.targets[0]!.definition.options.cmd).toEqual(['/app/start', '--fast']);
  });
});

describe('healthWaitFor', () => {
  const base = { appPort: 8080, healthcheckPath: '/health', healthTimeoutMs: 5000 };
  test.each([
    { proxied: true, hc: true, expected: 'HTTP 200 on :8080/health and Docker health status "healthy"' },
    { proxied: true, hc: false, expected: 'HTTP 200 on :8080/health' },
    { proxied: false, hc: true, expected: 'Docker health status "healthy"' },
    { proxied: false, hc: false, expected: undefined },
  ])('proxied=$proxied healthcheck=$hc -> $expected', ({ proxied, hc, expected }) => {
    const w = healthWaitFor(proxied, { ...base, imageHasHealthcheck: hc });
    expect(w?.description).toBe(expected);
    if (w) expect(w.timeoutMs).toBe(5000);
  });
});

describe('appTestTargetName', () => {
  test.each([
    ['hello', 'web', 'hello-web'],
    ['Hello', 'Web.Role', 'hello-web-role'],
    ['a'.repeat(70), 'web', 'a'.repeat(63)],
  ])('%s + %s -> %s', (service, role, expected) => {
    expect(appTestTargetName(service, role)).toBe(expected);
  });
});

describe('imageHasHealthcheck', () => {
  test.each([
    [{ Healthcheck: { Test: ['CMD', '/app/healthcheck'] } }, true],
    [{ Healthcheck: { Test: ['NONE'] } }, false],
    [{}, false],
    [undefined, false],
  ])('%j -> %s', (config, expected) => {
    expect(imageHasHealthcheck({ Config: config } as never)).toBe(expected);
  });
});
