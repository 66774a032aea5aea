// Issue 5, scenario 6: the deploy lock under contention. Two deploys started together: exactly one
// proceeds, the other exits 3 naming the holder. A lock left by a killed deploy is reported with
// holder, age and its dead pid. --lock-wait waits for a held lock (bounded), then proceeds.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { gangway, resetHosts } from './helpers/deploy.js';
import { convergedOn, faultProject, isStep, settledTruth, startGangway, underFaultLoad } from './helpers/faults.js';

const info = inject('sandbox');
const REPO = 'faults-lock/hello';
let project: string;
const run = (args: string[], timeoutMs = 150_000) => gangway(args, { cwd: project, timeoutMs });

describe('the deploy lock under contention', () => {
  beforeAll(async () => {
    project = await faultProject(info, { repo: REPO, versions: ['1.0.0', '2.0.0', '3.0.0', '4.0.0'] });
  }, 600_000);

  afterAll(async () => {
    await resetHosts(info);
  });

  it('two deploys started together: exactly one proceeds, the other exits 3 naming the holder', async () => {
    const { result, load } = await underFaultLoad(info, 180_000, () => Promise.all([run(['deploy', '--version', '2.0.0', '-m', 'first']), run(['deploy', '--version', '3.0.0', '-m', 'second'])]));
    const codes = result.map((r) => r.code).sort();
    expect(codes, result.map((r) => r.output.slice(-1500)).join('\n----\n')).toEqual([0, 3]);
    const winner = result.find((r) => r.code === 0)!;
    const loser = result.find((r) => r.code === 3)!;
    const winnerVersion = winner === result[0] ? '2.0.0' : '3.0.0';
    expect(loser.output).toMatch(new RegExp(`lock of hello is held by \\S+ \\(pid \\d+\\) for \\d+s, deploying ${winnerVersion.replace(/\./g, '\\.')}`));
    // The loser touched nothing: it never got past the lock.
    expect(loser.output).not.toMatch(/\bpull\b/);
    expect(convergedOn(await settledTruth(info), winnerVersion)).toEqual([]);
    expect(load.failures).toEqual([]);
    expect((await run(['lock', 'status'])).output).toContain('free');
  });

  it('a lock left by a killed deploy: held by whom, for how long, and its pid is not running', async () => {
    const cli = startGangway(['deploy', '--version', '4.0.0', '-m', 'will be killed'], { cwd: project });
    await cli.waitFor(isStep('lock', 'done'), 'the lock');
    cli.child.kill('SIGKILL');
    await cli.result;
    await new Promise((r) => setTimeout(r, 1200));
    const status = await run(['lock', 'status', '--json']);
    const row = status.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; kind?: string; data?: Record<string, unknown>; message?: string }).find((e) => e.kind === 'lock');
    expect(row?.data).toMatchObject({ held: true, version: '4.0.0', message: 'will be killed', pid: cli.child.pid, holderRunning: false });
    expect(status.stdout).toMatch(/held by \S+ \(pid \d+\) for [1-9]\d*s, deploying 4\.0\.0: will be killed; pid \d+ is not running on this machine/);

    // --lock-wait on a lock nobody will release: waits its time, then exits 3 with the same story.
    const t0 = Date.now();
    const waited = await run(['deploy', '--version', '4.0.0', '--lock-wait', '3s']);
    expect(waited.code).toBe(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3000);
    expect(waited.output).toMatch(/waiting for the deploy lock held by/);
    expect(waited.output).toMatch(/is not running on this machine/);

    expect((await run(['lock', 'release'])).code).toBe(0);
    const rerun = await run(['deploy', '--version', '4.0.0']);
    expect(rerun.code, rerun.output).toBe(0);
    expect(convergedOn(await settledTruth(info), '4.0.0')).toEqual([]);
  });

  it('--lock-wait waits for a held lock, then deploys after the holder finished', async () => {
    const { result, load } = await underFaultLoad(info, 240_000, async () => {
      const first = startGangway(['deploy', '--version', '2.0.0', '-m', 'first'], { cwd: project });
      await first.waitFor(isStep('lock', 'done'), 'the first lock');
      const second = startGangway(['deploy', '--version', '3.0.0', '--lock-wait', '2m'], { cwd: project });
      await second.waitFor((e) => e.type === 'log' && /waiting for the deploy lock held by/.test(e.message), 'the second deploy waiting');
      const [a, b] = await Promise.all([first.result, second.result]);
      const firstDone = first.events.find((e) => e.type === 'done');
      const secondLocked = second.events.find(isStep('lock', 'done'));
      return { a, b, firstDoneTs: firstDone?.ts, secondLockedTs: secondLocked?.ts };
    });
    expect(result.a.code, result.a.output.slice(-2000)).toBe(0);
    expect(result.b.code, result.b.output.slice(-2000)).toBe(0);
    // The second took the lock only after the first had finished; both events must be there.
    expect(result.firstDoneTs, 'the first deploy emitted no done event').toBeTypeOf('number');
    expect(result.secondLockedTs, 'the second deploy never took the lock').toBeTypeOf('number');
    expect(result.secondLockedTs!).toBeGreaterThanOrEqual(result.firstDoneTs!);
    expect(convergedOn(await settledTruth(info), '3.0.0')).toEqual([]);
    expect(load.failures).toEqual([]);
  });
});
