// `gangway test` against the real engine: the example app (examples/hello) built locally in its
// three variants, started from a gangway.yml, health-gated, uptested by the deploy's runner, and
// nothing of the run left behind (checked by the owner-pid label every resource carries).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildHello } from '../../src/sandbox/index.js';
import { PID_LABEL } from '../../src/testing/index.js';
import { gangway, type CliResult } from './release-support.js';

const docker = new Docker();
const REPO = 'gangway-it-cli-test/hello';
const VERSION = '1.0.0';
const SECRET = 'cli-test-s3cr3t-never-shown';
let project: string;
const images: Record<'ok' | 'uptest-fails' | 'broken', string> = { ok: '', 'uptest-fails': '', broken: '' };

beforeAll(async () => {
  for (const variant of ['ok', 'uptest-fails', 'broken'] as const) images[variant] = (await buildHello({ version: VERSION, variant, docker })).tag;
  // The default path: <config image>:<version>, as `gangway build` would have tagged it.
  await docker.getImage(images.ok).tag({ repo: REPO, tag: VERSION });
  project = mkdtempSync(join(tmpdir(), 'gangway-cli-test-'));
  writeFileSync(join(project, 'gangway.yml'), `service: hello
image: ${REPO}
servers:
  web: { hosts: [localhost] }
  workers: { hosts: [localhost], cmd: [/app/worker] }
proxy:
  app_port: 80
  healthcheck: { path: /up }
env:
  clear: { MODE: test }
  secret: [HELLO_SECRET]
uptests: { path: uptests, timeout: 20s }
deploy_timeout: 20s
`);
}, 300_000);

afterAll(async () => {
  await docker.getImage(`${REPO}:${VERSION}`).remove().catch(() => {});
  if (project) rmSync(project, { recursive: true, force: true });
});

/** Runs `gangway test ...`, then counts what the CLI process left on the engine. */
async function gangwayTest(args: string[]): Promise<CliResult & { output: string; leftBehind: number }> {
  let pid = 0;
  const result = await gangway(['test', ...args], { cwd: project, env: { HELLO_SECRET: SECRET }, timeoutMs: 90_000, onStart: (p) => { pid = p; } });
  const filters = { label: [`${PID_LABEL}=${pid}`] };
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  const leftBehind = containers.length + networks.length + (volumes.Volumes ?? []).length;
  const output = result.stdout + result.stderr;
  expect(output).not.toContain(SECRET);
  return { ...result, output, leftBehind };
}

describe('gangway test', () => {
  test('a healthy image passes both uptests: exit 0', async () => {
    const r = await gangwayTest(['--version', VERSION]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/uptest 01-up ok passed/);
    expect(r.output).toMatch(/uptest 02-version ok passed/);
    expect(r.output).toContain(`${REPO}:${VERSION}: 2 uptests passed`);
    expect(r.leftBehind).toBe(0);
  });

  test('a failing uptest: exit 1, naming 02-version with its output', async () => {
    const r = await gangwayTest(['--image', images['uptest-fails']]);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/uptest 01-up ok passed/);
    expect(r.output).toMatch(/uptest 02-version FAILED/);
    expect(r.output).toContain("02-version| GET /version answered 'unknown', expected '1.0.0'");
    expect(r.output).toContain('1 of 2 uptests failed: web/02-version');
    expect(r.leftBehind).toBe(0);
  });

  test('an app that dies at start: exit 1 with its [emerg] line, no uptest run', async () => {
    const r = await gangwayTest(['--image', images.broken]);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain('hello: [emerg] unknown directive "bogus" in /etc/hello.conf:3');
    expect(r.output).toMatch(/exited with code 1/);
    expect(r.output).not.toMatch(/uptest 01-up/);
    expect(r.leftBehind).toBe(0);
  });

  test('--json: one result with every uptest, and the done event', async () => {
    const r = await gangwayTest(['--json', '--image', images['uptest-fails']]);
    expect(r.code).toBe(1);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; kind?: string; data?: { roles: Array<{ role: string; uptests: Array<{ name: string; passed: boolean }> }> }; exitCode?: number });
    const result = events.find((e) => e.type === 'result' && e.kind === 'test')!;
    expect(result.data!.roles).toEqual([{ role: 'web', passed: false, uptests: [expect.objectContaining({ name: '01-up', passed: true }), expect.objectContaining({ name: '02-version', passed: false })] }]);
    expect(events.at(-1)).toMatchObject({ type: 'done', exitCode: 1 });
  });

  test.each([
    [['--image', 'gangway-it-cli-test/not-built:0'], /is not on the local engine/],
    [['--version', 'not a tag'], /not a valid Docker tag/],
    [['--image', images.ok || 'x', '--version', VERSION], /not both/],
  ])('bad input %j: exit 2, nothing started', async (args, message) => {
    const r = await gangwayTest(args as string[]);
    expect(r.code, r.output).toBe(2);
    expect(r.output).toMatch(message);
    expect(r.leftBehind).toBe(0);
  });
});
