// examples/hello, built on the local busybox image and run on the local engine: its endpoints,
// its failing variants, its worker and its uptests behave as the deploy tests expect.
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execIn, runToCompletion } from '../../src/sandbox/engine.js';
import { buildHello, type BuiltImage } from '../../src/sandbox/index.js';

const docker = new Docker();
const LABELS = { 'gangway.test': 'sandbox-hello' };
const started: Docker.Container[] = [];

async function startApp(image: string, cmd?: string[]): Promise<{ container: Docker.Container; port: number }> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: cmd,
    Labels: LABELS,
    ExposedPorts: { '80/tcp': {} },
    HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  });
  started.push(container);
  await container.start();
  const inspect = await container.inspect();
  const port = Number(inspect.NetworkSettings.Ports['80/tcp']?.[0]?.HostPort);
  return { container, port };
}

async function waitForHealth(container: Docker.Container, want: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let status = '';
  while (Date.now() < deadline) {
    status = (await container.inspect()).State.Health?.Status ?? 'none';
    if (status === want) return status;
    await new Promise((r) => setTimeout(r, 250));
  }
  return status;
}

let ok: BuiltImage;

beforeAll(async () => {
  ok = await buildHello({ version: '1.2.3', variant: 'ok', docker });
});

afterAll(async () => {
  await Promise.all(started.map((c) => c.remove({ force: true }).catch(() => {})));
});

describe('examples/hello', () => {
  it('caches builds by content: the same version and variant give the same tag without a build', async () => {
    const again = await buildHello({ version: '1.2.3', variant: 'ok', docker });
    expect(again).toMatchObject({ tag: ok.tag, built: false });
    const other = await buildHello({ version: '1.2.4', variant: 'ok', docker });
    expect(other.tag).not.toBe(ok.tag);
  });

  it('serves /, /up, /version and the echo CGI, and becomes healthy', async () => {
    const { container, port } = await startApp(ok.tag);
    expect(await waitForHealth(container, 'healthy')).toBe('healthy');
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, body: (await res.text()).trim() };
    };
    expect(await get('/')).toEqual({ status: 200, body: 'hello from 1.2.3' });
    expect(await get('/up')).toEqual({ status: 200, body: 'ok' });
    expect(await get('/version')).toEqual({ status: 200, body: '1.2.3' });
    const post = await fetch(`http://127.0.0.1:${port}/cgi-bin/echo`, { method: 'POST', body: 'x'.repeat(1000) });
    expect((await post.text()).trim()).toBe('1000');
  });

  it('passes its own uptests with <host> <port> arguments', async () => {
    const { container } = await startApp(ok.tag);
    await waitForHealth(container, 'healthy');
    for (const test of ['/uptests/web/01-up', '/uptests/web/02-version']) {
      const result = await execIn(container, [test, '127.0.0.1', '80']);
      expect(result.exitCode, `${test}: ${result.output}`).toBe(0);
    }
  });

  it('stops at once on SIGTERM (the shell forwards it to httpd)', async () => {
    const { container } = await startApp(ok.tag);
    const t = Date.now();
    await container.stop({ t: 10 });
    expect(Date.now() - t).toBeLessThan(3000);
  });

  it('VARIANT=broken dies at start with an nginx-like line naming the config line', async () => {
    const broken = await buildHello({ version: '1.2.3', variant: 'broken', docker });
    const result = await runToCompletion(docker, { Image: broken.tag, Labels: LABELS });
    expect(result.exitCode).toBe(1);
    expect(result.output).toContain('[emerg] unknown directive "bogus" in /etc/hello.conf:3');
  });

  it('VARIANT=uptest-fails is healthy but fails 02-version with a clear message', async () => {
    const failing = await buildHello({ version: '1.2.3', variant: 'uptest-fails', docker });
    const { container } = await startApp(failing.tag);
    expect(await waitForHealth(container, 'healthy')).toBe('healthy');
    expect((await execIn(container, ['/uptests/web/01-up', '127.0.0.1', '80'])).exitCode).toBe(0);
    const version = await execIn(container, ['/uptests/web/02-version', '127.0.0.1', '80']);
    expect(version.exitCode).not.toBe(0);
    expect(version.output).toContain("GET /version answered 'unknown', expected '1.2.3'");
  });

  it('runs /app/worker for the workers role: heartbeats, healthy without HTTP', async () => {
    const { container } = await startApp(ok.tag, ['/app/worker']);
    expect(await waitForHealth(container, 'healthy')).toBe('healthy');
    const logs = (await container.logs({ stdout: true, stderr: true })).toString();
    expect(logs).toMatch(/worker 1\.2\.3 heartbeat \d+/);
  });
});
