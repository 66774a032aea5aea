// Issue 17: canary deploys on the 3-host sandbox (web on vm1+vm2 behind their proxies, workers on
// vm3), under an open-loop GET load through both proxies. A v2 that answers 500 on about 1
// request in 5 and a slow v2 (both pass their uptests) are aborted at their first step; a good
// one is promoted step by step; a CLI killed mid-step is finished by `canary abort` or `canary
// promote`, or by a rerun. Every assertion about the hosts is read from outside gangway.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LoadOptions } from '../../bench/zero-downtime/load.js';
import { gangway, onHost, resetHosts } from './helpers/deploy.js';
import { convergedOn, FAULT_LOAD, faultProject, isStep, settledTruth, startGangway, underFaultLoad, type LoadSummary } from './helpers/faults.js';

const info = inject('sandbox');
const REPO = 'canary-it/hello';
let project: string;
const run = (args: string[], timeoutMs = 150_000) => gangway(args, { cwd: project, timeoutMs });

/** GET / only (the request the bad versions get wrong), half of them on a fresh connection. */
const CANARY_LOAD: LoadOptions = { ...FAULT_LOAD, kinds: [{ method: 'GET', fresh: false }, { method: 'GET', fresh: true }] };
const load = <T>(during: () => Promise<T>, maxMs = 150_000) => underFaultLoad(info, maxMs, during, CANARY_LOAD);

/** The project's canary settings for the next deploy. */
function setCanary(canary: Record<string, unknown>): void {
  const file = join(project, 'gangway.yml');
  const config = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, stringify({ ...config, canary }));
}

const recordOn = (host: string) => onHost(info, host, 'cat /var/lib/gangway/canary/hello.json 2>/dev/null || echo none');
const share = (l: LoadSummary) => (l.requests === 0 ? 0 : l.failed / l.requests);
const report = (what: string, l: LoadSummary) =>
  console.log(`[canary] ${what}: ${l.failed} of ${l.requests} requests failed (${(100 * share(l)).toFixed(2)}%), served ${JSON.stringify(l.servedVersions)}, p99 ${l.p99Ms} ms; ${l.failures.join(', ') || 'no failures'}`);

describe('canary deploys on a 3-host sandbox', () => {
  beforeAll(async () => {
    project = await faultProject(info, {
      repo: REPO,
      versions: ['1.0.0', ['2.0.0', 'errors'], ['3.0.0', 'slow'], '4.0.0', '5.0.0', '6.0.0', '7.0.0', '8.0.0', ['9.0.0', 'slow-tail']],
    });
  }, 400_000);

  afterAll(async () => {
    await resetHosts(info);
  });

  it('aborts a v2 that fails 20% of its requests at the 10% step, within the step, and the old version serves 100% again', async () => {
    setCanary({ steps: ['10%', '50%'], interval: '15s', max_error_rate: '1%', min_requests: 20 });
    const { result, load: l } = await load(() => run(['deploy', '--canary', '--version', '2.0.0']));
    report('bad v2 at 10%', l);
    expect(result.code, result.output).not.toBe(0);
    const m = /canary of 2\.0\.0 aborted: at 10% after ([\d.]+) s; error rate/.exec(result.output);
    expect(m, result.output.slice(-3000)).not.toBeNull();
    // Detected within the step's interval (15 s), never promoted to the 50% step.
    expect(Number(m![1])).toBeLessThan(15);
    expect(result.output).not.toMatch(/50% of the traffic to 2\.0\.0/);
    // gangway reports the share that failed, and it is at most what a 10% step lets through.
    expect(result.output).toMatch(/\d+ of \d+ requests through the proxies \([\d.]+%\) failed on 2\.0\.0/);
    expect(l.failed).toBeGreaterThan(0);
    expect(share(l)).toBeLessThanOrEqual(0.1);
    // Only the bad version's answers failed: no request was dropped by the weight changes.
    for (const f of l.failures) expect(f).toMatch(/^500 /);
    expect(convergedOn(await settledTruth(info), '1.0.0')).toEqual([]);
    for (const host of ['vm1', 'vm2']) expect((await recordOn(host)).trim()).toBe('none');
  }, 200_000);

  it('aborts a slow v2 (p99 over the bound, counted by HAProxy)', async () => {
    setCanary({ steps: ['10%'], interval: '15s', max_p99: '200ms', min_requests: 20 });
    const { result, load: l } = await load(() => run(['deploy', '--canary', '--version', '3.0.0']));
    report('slow v2 at 10%', l);
    expect(result.code, result.output).not.toBe(0);
    const m = /canary of 3\.0\.0 aborted: at 10% after [\d.]+ s; p99 over 200 ms: (\d+) of (\d+) responses slower than 200 ms/.exec(result.output);
    expect(m, result.output.slice(-3000)).not.toBeNull();
    console.log(`[canary] slow v2: ${m![0]}`);
    // Every answer of v2 takes 400 ms more: (nearly) all of them are counted slow.
    expect(Number(m![1])).toBeGreaterThan(0.5 * Number(m![2]));
    expect(l.failed).toBe(0);
    expect(convergedOn(await settledTruth(info), '1.0.0')).toEqual([]);
  }, 200_000);

  it('aborts a v2 whose slowness is confined to ~3% of its answers: the p99 gate fires, the average gate on the same data does not', async () => {
    // 50 %: enough answers in a step (~15/s) that ~3 % slow is far from 1 % (min_requests 100).
    setCanary({ steps: ['50%'], interval: '20s', max_p99: '200ms', max_response_time: '150ms', min_requests: 100 });
    const { result, load: l } = await load(() => run(['deploy', '--canary', '--version', '9.0.0']));
    report('slow-tail v2 at 50%', l);
    expect(result.code, result.output).not.toBe(0);
    const m = /canary of 9\.0\.0 aborted: at 50% after [\d.]+ s; p99 over 200 ms: (\d+) of (\d+) responses slower than 200 ms([^\n]*)/.exec(result.output);
    expect(m, result.output.slice(-3000)).not.toBeNull();
    console.log(`[canary] slow-tail v2: ${m![0]}`);
    const [slow, answered] = [Number(m![1]), Number(m![2])];
    expect(slow).toBeGreaterThan(0.01 * answered);
    // A tail, not the whole: far fewer than half are slow (the slow v2 above is nearly all).
    expect(slow).toBeLessThan(0.2 * answered);
    // The average of the same answers stays under its 150 ms bound: it is no reason of the abort.
    expect(m![3]).not.toMatch(/average response time/);
    expect(l.failed).toBe(0);
    expect(convergedOn(await settledTruth(info), '1.0.0')).toEqual([]);
  }, 200_000);

  it('promotes a good v2 through 10% and 50% to 100%, zero failed requests, the old version drained and stopped', async () => {
    setCanary({ steps: ['10%', '50%'], interval: '6s', max_error_rate: '1%', max_response_time: '200ms', max_p99: '1s', min_requests: 20 });
    const { result, load: l } = await load(() => run(['deploy', '--canary', '--version', '4.0.0']));
    report('good v2', l);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/10% of the traffic to 4\.0\.0/);
    expect(result.output).toMatch(/50% of the traffic to 4\.0\.0/);
    expect(result.output).toMatch(/canary of 4\.0\.0 promoted after 2 steps/);
    expect(l.failed).toBe(0);
    // Both versions answered during the steps.
    expect(l.servedVersions['1.0.0'] ?? 0).toBeGreaterThan(0);
    expect(l.servedVersions['4.0.0'] ?? 0).toBeGreaterThan(0);
    expect(convergedOn(await settledTruth(info), '4.0.0')).toEqual([]);
    for (const host of ['vm1', 'vm2']) expect((await onHost(info, host, 'docker ps -a --format "{{.Names}} {{.Status}}" | grep hello-web-1.0.0')).trim()).toMatch(/Exited/);
  }, 200_000);

  /** Starts a canary of `version` and SIGKILLs the CLI a few seconds into its first step. */
  async function killMidStep(version: string): Promise<void> {
    // A p99 bound no answer reaches here: `canary status` shows the count, the killed canary is not aborted by it.
    setCanary({ steps: ['10%', '50%'], interval: '60s', max_p99: '5s', min_requests: 20 });
    const cli = startGangway(['deploy', '--canary', '--version', version], { cwd: project, timeoutMs: 150_000 });
    await cli.waitFor(isStep('canary', 'start'), 'the first canary step');
    await new Promise((r) => setTimeout(r, 3000));
    cli.child.kill('SIGKILL');
    await cli.result;
  }

  it('SIGKILL mid-step, then `canary status` shows the split and `canary abort` brings the old version back: 0 failed requests', async () => {
    const { result: status, load: l } = await load(async () => {
      await killMidStep('5.0.0');
      const st = await run(['canary', 'status']);
      const ab = await run(['canary', 'abort']);
      expect(ab.code, ab.output).toBe(0);
      return st;
    });
    report('SIGKILL then canary abort', l);
    expect(status.code, status.output).toBe(0);
    expect(status.output).toMatch(/5\.0\.0 takes 10\.0% of new requests: hello-web-5\.0\.0 \d+ requests, [\d.]+% errors, \d+ ms average, \d+ slower than 5000 ms/);
    expect(l.failed).toBe(0);
    expect(convergedOn(await settledTruth(info), '4.0.0')).toEqual([]);
    for (const host of ['vm1', 'vm2']) expect((await recordOn(host)).trim()).toBe('none');
  }, 250_000);

  it('SIGKILL mid-step, then `canary promote` gives the new version everything: 0 failed requests', async () => {
    const { load: l } = await load(async () => {
      await killMidStep('5.0.0');
      const pr = await run(['canary', 'promote']);
      expect(pr.code, pr.output).toBe(0);
    });
    report('SIGKILL then canary promote', l);
    expect(l.failed).toBe(0);
    expect(convergedOn(await settledTruth(info), '5.0.0')).toEqual([]);
  }, 250_000);

  it('a person takes over a running canary: `canary abort` and `canary promote` are carried out by the deploy itself', async () => {
    setCanary({ steps: ['10%', '50%'], interval: '60s', min_requests: 20 });
    const { result, load: l } = await load(async () => {
      const byHand = async (version: string, action: 'abort' | 'promote') => {
        const cli = startGangway(['deploy', '--canary', '--version', version], { cwd: project, timeoutMs: 150_000 });
        await cli.waitFor(isStep('canary', 'start'), 'the first canary step');
        const t0 = Date.now();
        const told = await run(['canary', action]);
        return { told, deploy: await cli.result, tookMs: Date.now() - t0 };
      };
      const aborted = await byHand('6.0.0', 'abort');
      const abortedTruth = convergedOn(await settledTruth(info), '5.0.0');
      const promoted = await byHand('6.0.0', 'promote');
      return { aborted, abortedTruth, promoted };
    });
    report('canary abort, then canary promote, of a running canary', l);
    const { aborted, abortedTruth, promoted } = result;
    expect(aborted.told.code, aborted.told.output).toBe(0);
    expect(aborted.told.output).toMatch(/running: told it to abort/);
    expect(aborted.deploy.code).not.toBe(0);
    expect(aborted.deploy.output).toMatch(/aborted by `gangway canary abort`/);
    expect(abortedTruth).toEqual([]);
    expect(promoted.told.code, promoted.told.output).toBe(0);
    expect(promoted.deploy.code, promoted.deploy.output.slice(-3000)).toBe(0);
    // Long before the 60 s step would have ended.
    expect(promoted.tookMs).toBeLessThan(45_000);
    expect(l.failed).toBe(0);
    expect(convergedOn(await settledTruth(info), '6.0.0')).toEqual([]);
  }, 300_000);

  it('SIGKILL mid-step, then a rerun (after `lock release`) returns the canary to the old version first and deploys as asked', async () => {
    const { result, load: l } = await load(async () => {
      await killMidStep('7.0.0');
      await run(['lock', 'release']);
      return run(['deploy', '--version', '7.0.0']);
    });
    report('SIGKILL then rerun', l);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/a canary of 7\.0\.0 was left unfinished/);
    expect(l.failed).toBe(0);
    expect(convergedOn(await settledTruth(info), '7.0.0')).toEqual([]);
  }, 250_000);

  it('a proxy restarted mid-canary (its CLI killed) loads the split from its file, and `canary abort` still ends it', async () => {
    await killMidStep('8.0.0');
    const weights = async () => {
      const state = await onHost(info, 'vm1', `printf 'show servers state\\n' | socat -t 5 - UNIX-CONNECT:/var/lib/gangway/proxy/admin.sock`);
      // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight ...
      return Object.fromEntries(state.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => /^hello-web-/.test(f[3] ?? '')).map((f) => [f[3], Number(f[7])]));
    };
    expect(await weights()).toEqual({ 'hello-web-7.0.0': 90, 'hello-web-8.0.0': 10 });
    await onHost(info, 'vm1', 'docker restart -t 5 gangway-proxy >/dev/null');
    let after: Record<string, number> = {};
    for (let i = 0; i < 40 && Object.keys(after).length < 2; i++) {
      await new Promise((r) => setTimeout(r, 500));
      after = await weights().catch(() => ({}));
    }
    expect(after).toEqual({ 'hello-web-7.0.0': 90, 'hello-web-8.0.0': 10 });
    const ab = await run(['canary', 'abort']);
    expect(ab.code, ab.output).toBe(0);
    expect(convergedOn(await settledTruth(info), '7.0.0')).toEqual([]);
  }, 250_000);
});
