// Guaranteed cleanup against the real engine: a process that exits without teardown, one that
// gets Ctrl-C, one that is SIGKILLed (then swept as stale), and fixtures scoped per test.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Docker from 'dockerode';
import { describe, expect, test as base } from 'vitest';
import { RUN_LABEL, container, removeRun, sweepStale, vitestFixtures, wait, type VitestFixtureTypes } from '../../src/testing/index.js';
import { httpdContext } from '../../examples/testing/images.js';

const docker = new Docker();
const httpd = container('web', { image: { build: httpdContext(), name: 'example-httpd' }, ports: [8080], wait: wait.forHttp('/') });
const repo = resolve(import.meta.dirname, '../..');

async function countOfRun(runId: string): Promise<number> {
  const filters = { label: [`${RUN_LABEL}=${runId}`] };
  const [c, n, v] = await Promise.all([docker.listContainers({ all: true, filters }), docker.listNetworks({ filters }), docker.listVolumes({ filters })]);
  return c.length + n.length + (v.Volumes ?? []).length;
}

/** Runs a child that sets up a container + network + volume, prints its run id, then does `ending`. */
function child(ending: string): { runId: Promise<string>; exited: Promise<number | null>; kill: (sig: NodeJS.Signals) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gwt-child-'));
  const script = join(dir, 'child.mts');
  writeFileSync(script, `
import { container, network, volume, setup, wait } from ${JSON.stringify(join(repo, 'src/testing/index.ts'))};
import { httpdContext } from ${JSON.stringify(join(repo, 'examples/testing/images.ts'))};
const net = network('n');
const vol = volume('v');
const web = container('web', { image: { build: httpdContext(), name: 'example-httpd' }, ports: [8080], networks: [net], mounts: [{ volume: vol, target: '/v' }], wait: wait.forHttp('/') });
const env = await setup(web);
process.stdout.write('RUN ' + env.runId + '\\n');
${ending}
`);
  // One process (not the tsx CLI, which forks): the pid that owns the run is the one we signal.
  const proc = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const runId = new Promise<string>((resolveRun, reject) => {
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /RUN (\w+)/.exec(out);
      if (m) resolveRun(m[1]!);
    });
    proc.on('exit', () => reject(new Error(`child exited before printing its run id: ${out}`)));
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return { runId, exited, kill: (sig) => proc.kill(sig) };
}

describe('cleanup without teardown', () => {
  base('a process that exits without tearing down leaves nothing', async () => {
    const c = child('process.exit(0);');
    const runId = await c.runId;
    await c.exited;
    expect(await countOfRun(runId)).toBe(0);
  });

  base('Ctrl-C (SIGINT) removes the run before the process ends', async () => {
    const c = child('setInterval(() => {}, 1000);');
    const runId = await c.runId;
    expect(await countOfRun(runId)).toBe(3);
    c.kill('SIGINT');
    await c.exited;
    expect(await countOfRun(runId)).toBe(0);
  });

  base('SIGKILL leaves the run behind; sweepStale removes it because its pid is dead', async () => {
    const c = child('setInterval(() => {}, 1000);');
    const runId = await c.runId;
    c.kill('SIGKILL');
    await c.exited;
    expect(await countOfRun(runId)).toBe(3);
    const report = await sweepStale(docker);
    expect(report.runIds).toContain(runId);
    expect(await countOfRun(runId)).toBe(0);
    await removeRun(docker, runId); // no-op when the sweep worked; keeps the engine clean when not
  });
});

describe('fixtures scoped per test', () => {
  let previousRunId = '';
  const defs = { web: httpd };
  const test = base.extend<VitestFixtureTypes<typeof defs>>(vitestFixtures(defs, { scope: 'test' }));

  test('each test gets its own run', async ({ web, gangway }) => {
    expect((await web.http.get('/')).status).toBe(200);
    previousRunId = gangway.runId;
  });

  test('and the previous test\'s run is gone', async ({ gangway }) => {
    expect(gangway.runId).not.toBe(previousRunId);
    expect(await countOfRun(previousRunId)).toBe(0);
  });
});
