// Waits against the real engine: each kind succeeds, a pattern that never comes fails within
// its timeout with the logs, and a container that exits early fails at once with its exit code.
import Docker from 'dockerode';
import { describe, expect, test } from 'vitest';
import { GangwayError } from '../../src/errors.js';
import { container, removeRun, setup, wait } from '../../src/testing/index.js';
import { httpdContext, kvContext } from '../../examples/testing/images.js';

const httpd = container('web', { image: { build: httpdContext(), name: 'example-httpd' }, ports: [8080] });
const kv = container('kv', { image: { build: kvContext(), name: 'example-kv' }, ports: [8080] });
const shell = (name: string, script: string) => httpd.with({ name, cmd: ['sh', '-c', script] });

async function failureOf(run: () => Promise<unknown>): Promise<{ err: GangwayError; elapsedMs: number }> {
  const startedAt = Date.now();
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(GangwayError);
    return { err: err as GangwayError, elapsedMs: Date.now() - startedAt };
  }
  throw new Error('expected a failure');
}

describe('waits that succeed', () => {
  test('HTTP status on a path, with ports sorted numerically', async () => {
    const def = httpd.with({ ports: [8080, 443, 80], wait: wait.forHttp('/index.html', { port: 8080 }) });
    await using env = await setup(def);
    const web = env.container(def);
    expect(web.firstHostPort()).toBe(web.hostPort(80));
    const res = await web.httpFor(8080).get('/');
    expect(await res.text()).toBe('hello from httpd\n');
  });

  test('TCP port listening inside and reachable through the published port', async () => {
    const def = kv.with({ wait: wait.forPort(8080) });
    await using env = await setup(def);
    expect((await env.container(def).http.get('/')).status).toBe(200);
  });

  test('Docker HEALTHCHECK reaching healthy', async () => {
    const def = httpd.with({
      healthcheck: { test: ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/'], intervalMs: 200, timeoutMs: 1000, retries: 3 },
      wait: wait.forHealthy({ timeoutMs: 15_000 }),
    });
    await using env = await setup(def);
    expect((await env.container(def).inspect()).State.Health?.Status).toBe('healthy');
  });

  test('log lines: all of a set in any order, or in order', async () => {
    const def = shell('talker', 'echo alpha; echo beta; exec sleep 30');
    await using env = await setup(def.with({ wait: wait.forLogs([/beta/, /alpha/]) }));
    const talker = env.container(def);
    await talker.waitForLog(/beta/);
    const { err } = await failureOf(() => talker.waitForLog(/never/, { timeoutMs: 300 }));
    expect(err.message).toContain('alpha');
    const inOrder = await failureOf(() => setup(def.with({ name: 'talker2', wait: wait.forLogs([/beta/, /alpha/], { inOrder: true, timeoutMs: 800 }) })));
    expect(inOrder.err.message).toMatch(/not ready after 800 ms/);
    await using ordered = await setup(def.with({ name: 'talker3', wait: wait.forLogs([/alpha/, /beta/], { inOrder: true }) }));
    expect(await ordered.container(def.with({ name: 'talker3' })).logs()).toBe('alpha\nbeta\n');
  });

  test('exec gives exit code, stdout and stderr', async () => {
    await using env = await setup(httpd);
    const out = await env.container(httpd).exec('echo out; echo err >&2; exit 3');
    expect(out).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
  });
});

describe('waits that fail', () => {
  test('a log pattern that never comes fails within its timeout and shows the logs', async () => {
    const def = kv.with({ wait: wait.forLog(/this line never comes/, { timeoutMs: 1500 }) });
    const { err, elapsedMs } = await failureOf(() => setup(def));
    expect(err.message).toContain('was not ready after 1500 ms');
    expect(err.message).toContain('kv: serving /data on :8080');
    expect(err.details).toContain('kv: serving /data on :8080');
    expect(elapsedMs).toBeGreaterThanOrEqual(1500);
    expect(elapsedMs).toBeLessThan(1500 + 5000);
  });

  test('a container that exits early fails the wait at once with its exit code and logs', async () => {
    const def = shell('crasher', 'echo booting; echo "fatal: no config file" >&2; exit 3').with({ wait: wait.forHttp('/', { timeoutMs: 60_000 }) });
    const { err, elapsedMs } = await failureOf(() => setup(def));
    expect(err.message).toMatch(/exited with code 3/);
    expect(err.message).toContain('fatal: no config file');
    // stdout and stderr are separate streams: their relative order is not guaranteed.
    expect([...err.details].sort()).toEqual(['booting', 'fatal: no config file']);
    expect(elapsedMs).toBeLessThan(5_000);
  });

  test('an unhealthy container fails the health wait without waiting for the timeout', async () => {
    const def = httpd.with({ name: 'sick', healthcheck: { test: ['CMD', 'false'], intervalMs: 200, retries: 1 }, wait: wait.forHealthy({ timeoutMs: 60_000 }) });
    const { err, elapsedMs } = await failureOf(() => setup(def));
    expect(err.message).toMatch(/unhealthy/);
    expect(elapsedMs).toBeLessThan(10_000);
  });

  test('keepOnFailure keeps the failed run and says how to reach it', async () => {
    const def = kv.with({ wait: wait.forLog(/never/, { timeoutMs: 500 }) });
    const { err } = await failureOf(() => setup(def, { keepOnFailure: true }));
    const runId = /failed test run (\w+)/.exec(err.message)?.[1];
    expect(runId).toBeDefined();
    expect(err.message).toContain(`docker exec -it gwt-${runId}-kv sh`);
    const removed = await removeRun(new Docker(), runId!);
    expect(removed.containers).toBe(1);
  });
});
