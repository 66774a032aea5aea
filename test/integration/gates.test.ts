// Gates against the local engine: the image HEALTHCHECK, a container dying at start, the
// running gate for workers, and uptests (pass, fail, hang) in sibling containers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost } from '../../src/hosts/local-host.js';
import { Events, type GangwayEvent } from '../../src/events/events.js';
import { assertGates, discardUptests, dockerHealthGate, prepareUptests, runningGate, runUptests, uptestsGate, listUptests } from '../../src/gates/gates.js';
import { GangwayError } from '../../src/errors.js';
import { APP_IMAGE, APP_PORT, BLOCKS_LABEL, HEALTH_IMAGE, NOSHELL_IMAGE, buildBlocksImages, cleanupBlocks, createBlocksNetwork, docker, runPlain, uniqueName } from './helpers/blocks.js';

const host = new LocalHost();
let network = '';

beforeAll(async () => {
  await cleanupBlocks();
  buildBlocksImages();
  network = await createBlocksNetwork();
});
afterAll(async () => {
  await cleanupBlocks();
});

describe('dockerHealth gate', () => {
  it('passes once the image HEALTHCHECK reports healthy', async () => {
    const name = await runPlain({ image: HEALTH_IMAGE, network });
    const result = await dockerHealthGate({ timeoutMs: 60_000, pollIntervalMs: 30_000 }).check({ host, container: name });
    expect(result).toMatchObject({ gate: 'docker-health', passed: true, message: 'healthy' });
    // Driven by the health_status event, not by the 30 s poll (margin for a loaded machine).
    expect(result.durationMs).toBeLessThan(10_000);
  });

  it('fails when Docker declares the container unhealthy, with the probe output', async () => {
    const name = await runPlain({ image: HEALTH_IMAGE, network, cmd: ['sleep', '600'] });
    const result = await dockerHealthGate({ timeoutMs: 30_000 }).check({ host, container: name });
    expect(result.passed).toBe(false);
    expect(result.message).toMatch(/unhealthy/);
    expect(result.details.join('\n')).toMatch(/health check exit 1/);
  });

  it('fails at once when the container dies at start, with its exit code and last log lines', async () => {
    const name = await runPlain({
      image: HEALTH_IMAGE,
      network,
      restart: true,
      cmd: ['sh', '-c', 'echo "loading /etc/app.conf"; echo "app: [emerg] unexpected end of file in /etc/app.conf:2" >&2; exit 1'],
    });
    const t0 = Date.now();
    const result = await dockerHealthGate({ timeoutMs: 60_000 }).check({ host, container: name });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(result.passed).toBe(false);
    expect(result.message).toMatch(/exited with code 1/);
    expect(result.details).toContain('app: [emerg] unexpected end of file in /etc/app.conf:2');
  });

  it('times out on a container that never becomes healthy within the deadline', async () => {
    const name = await runPlain({ image: HEALTH_IMAGE, network, cmd: ['sleep', '600'] });
    const result = await dockerHealthGate({ timeoutMs: 800 }).check({ host, container: name });
    expect(result.passed).toBe(false);
    expect(result.message).toMatch(/not healthy within 800 ms/);
  });

  it('becomes a GangwayError carrying the evidence through assertGates', async () => {
    const name = await runPlain({ image: APP_IMAGE, network, cmd: ['sh', '-c', 'echo boom >&2; exit 7'] });
    // The image has no HEALTHCHECK: while the container still runs, the gate rightly passes. Once
    // it has exited, the gate must fail with the evidence.
    await docker.getContainer(name).wait();
    const err = await assertGates([dockerHealthGate({ timeoutMs: 10_000 })], { host, container: name, role: 'web' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GangwayError);
    expect(err).toMatchObject({ code: 'operation', step: 'docker-health', role: 'web', host: 'localhost' });
    expect((err as GangwayError).details).toContain('boom');
  });
});

describe('running gate', () => {
  it('passes a worker that stays up for the settle period', async () => {
    const name = await runPlain({ image: APP_IMAGE, network, cmd: ['sleep', '600'] });
    const result = await runningGate({ settleMs: 1_500 }).check({ host, container: name });
    expect(result).toMatchObject({ passed: true });
    expect(result.durationMs).toBeGreaterThanOrEqual(1_500);
    expect(result.durationMs).toBeLessThan(8_000);
  });

  it('fails a worker that crashes (and restarts) while settling', async () => {
    const name = await runPlain({ image: APP_IMAGE, network, restart: true, cmd: ['sh', '-c', 'sleep 0.3; echo "worker: cannot reach queue" >&2; exit 2'] });
    const result = await runningGate({ settleMs: 3_000 }).check({ host, container: name });
    expect(result.passed).toBe(false);
    expect(result.message).toMatch(/code 2/);
    expect(result.details).toContain('worker: cannot reach queue');
  });
});

describe('uptests', () => {
  it('lists only the executables of the role, sorted, straight from the image', async () => {
    expect(await listUptests(host, APP_IMAGE, 'uptests', 'web', BLOCKS_LABEL)).toEqual({ dir: '/app/uptests/web', names: ['01_pass', '02_fail', '03_hang'] });
    expect((await listUptests(host, APP_IMAGE, 'uptests', 'nosuchrole', BLOCKS_LABEL)).names).toEqual([]);
  });

  it('runs every uptest even when one fails, times out the hanging one, and removes all their containers', async () => {
    const target = await runPlain({ image: APP_IMAGE, network, name: uniqueName('blocks-web-') });
    const seen: GangwayEvent[] = [];
    const events = new Events();
    events.on((e) => seen.push(e));
    const results = await runUptests({
      host, image: APP_IMAGE, role: 'web', uptestsPath: 'uptests', targetName: target, appPort: APP_PORT, network,
      env: { MODE: 'production' }, timeoutMs: 2_000, labels: BLOCKS_LABEL, events,
    });
    expect(results.map((r) => [r.name, r.passed, r.exitCode, r.timedOut])).toEqual([
      ['01_pass', true, 0, false],
      ['02_fail', false, 3, false],
      ['03_hang', false, null, true],
    ]);
    expect(results[0]!.output).toContain('hello from blocks');
    // Both streams kept; their relative order is Docker's (separate pipes, copied concurrently).
    expect(results[1]!.output.split('\n').sort()).toEqual(['', 'expected hi, got hello', 'on stdout before failing']);
    expect(results[2]!.output).toMatch(/waiting for something[\s\S]*uptest 03_hang did not finish within 2000 ms/);
    // Timed from its marker lines' arrival (all uptests share one container's log stream): the
    // in-container kill comes 2 s after the start, the lines can reach gangway a few ms apart less.
    expect(results[2]!.durationMs).toBeGreaterThanOrEqual(1_900);
    expect(results[2]!.durationMs).toBeLessThan(15_000);
    const leftovers = await docker.listContainers({ all: true, filters: { label: ['gangway.managed=uptest', `gangway.uptest_of=${target}`] } });
    expect(leftovers).toEqual([]);
    expect(seen.filter((e) => e.type === 'step' && e.status !== 'start').map((e) => (e as { step: string }).step)).toEqual(['uptest 01_pass', 'uptest 02_fail', 'uptest 03_hang']);
  });

  it('prepared ahead (started, armed: waiting for its go), the same uptests run with the same results; discarded ones leave nothing', async () => {
    const target = await runPlain({ image: APP_IMAGE, network, name: uniqueName('blocks-web-') });
    const input = { host, image: APP_IMAGE, role: 'web', uptestsPath: 'uptests', targetName: target, appPort: APP_PORT, network, env: { MODE: 'production' }, timeoutMs: 2_000, labels: BLOCKS_LABEL };
    const ofTarget = () => docker.listContainers({ all: true, filters: { label: ['gangway.managed=uptest', `gangway.uptest_of=${target}`] } });
    const prepared = await prepareUptests(input);
    expect(prepared.names).toEqual(['01_pass', '02_fail', '03_hang']);
    // One container for the three, running and waiting on its stdin: nothing ran before the gate
    // (not one marker line in its output after a while).
    const [runner] = await ofTarget();
    expect(runner?.State).toBe('running');
    await new Promise((r) => setTimeout(r, 500));
    const early = await docker.getContainer(runner!.Id).logs({ stdout: true, stderr: true, follow: false });
    expect(early.toString()).toBe('');
    const results = await runUptests({ ...input, prepared: Promise.resolve(prepared) });
    expect(results.map((r) => [r.name, r.passed, r.exitCode, r.timedOut])).toEqual([
      ['01_pass', true, 0, false],
      ['02_fail', false, 3, false],
      ['03_hang', false, null, true],
    ]);
    expect(results[0]!.output).toContain('hello from blocks');
    expect(await ofTarget()).toEqual([]);
    // A health gate that failed: the prepared containers are removed before they ran anything.
    await discardUptests(host, prepareUptests(input));
    expect(await ofTarget()).toEqual([]);
  });

  it('runs all of a role\'s uptests in one container (counted by the engine\'s create events), and names a failing second one; an image without a shell gets one container per uptest', async () => {
    for (const [image, creates] of [[APP_IMAGE, 1], [NOSHELL_IMAGE, 2]] as const) {
      const target = await runPlain({ image: APP_IMAGE, network, name: uniqueName('blocks-pair-') });
      const since = Math.floor(Date.now() / 1000);
      const gate = uptestsGate({ image, uptestsPath: 'uptests', appPort: APP_PORT, network, env: {}, timeoutMs: 10_000, labels: BLOCKS_LABEL });
      const result = (await gate.check({ host, container: target, role: 'pair' })) as Awaited<ReturnType<ReturnType<typeof uptestsGate>['check']>> & { uptests: Array<{ name: string; passed: boolean; exitCode: number | null; output: string }> };
      const until = Math.ceil(Date.now() / 1000) + 1;
      expect(result.passed).toBe(false);
      expect(result.message).toBe('1 of 2 uptests failed: 02_bad');
      expect(result.details).toContain('  02_bad| pair two: wrong answer');
      expect(result.uptests.map((u) => [u.name, u.passed, u.exitCode, u.output])).toEqual([['01_ok', true, 0, 'pair one ok\n'], ['02_bad', false, 4, 'pair two: wrong answer\n']]);
      const stream = (await docker.getEvents({ since, until, filters: { type: ['container'], event: ['create'], label: [`gangway.uptest_of=${target}`] } })) as unknown as NodeJS.ReadableStream;
      let text = '';
      for await (const chunk of stream) text += chunk.toString();
      expect({ image, creates: text.split('\n').filter((l) => l.trim() !== '').length }).toEqual({ image, creates });
    }
  });

  it('gives each uptest the app env and <container> <port> as args', async () => {
    const target = await runPlain({ image: APP_IMAGE, network, name: uniqueName('blocks-worker-'), cmd: ['sleep', '600'] });
    const gate = uptestsGate({ image: APP_IMAGE, uptestsPath: 'uptests', appPort: APP_PORT, network, env: { MODE: 'production', SECRET_TOKEN: 'abcdefghij0123456789' }, timeoutMs: 10_000, labels: BLOCKS_LABEL });
    const result = await gate.check({ host, container: target, role: 'workers' });
    expect(result).toMatchObject({ passed: true, message: '1 uptest passed' });
    expect((result as typeof result & { uptests: Array<{ output: string }> }).uptests[0]!.output).toBe(`MODE=production args=${target} ${APP_PORT}\n`);
  });

  it('as a gate, names the failing and the hung uptests', async () => {
    const target = await runPlain({ image: APP_IMAGE, network, name: uniqueName('blocks-web-') });
    const gate = uptestsGate({ image: APP_IMAGE, uptestsPath: 'uptests', appPort: APP_PORT, network, env: {}, timeoutMs: 1_500, labels: BLOCKS_LABEL });
    const result = await gate.check({ host, container: target, role: 'web' });
    expect(result.passed).toBe(false);
    expect(result.message).toBe('2 of 3 uptests failed: 02_fail, 03_hang (hung: 03_hang)');
    expect(result.details).toContain('  02_fail| expected hi, got hello');
  });
});
