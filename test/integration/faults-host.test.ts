// Issue 5, scenarios 3 and 5: a host that dies mid-deploy (its sandbox container frozen with
// `docker pause`: sshd, dockerd and the app stop answering at once; or its sshd killed), and the proxy container
// restarting (crashed, and restarted by an admin) at rest and during a drain. Routes survive a
// proxy restart because haproxy.cfg on the host is kept equal to the runtime state; the restart
// itself drops the connections it had, and those failures are counted (bench/proxy-restart).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { gangway, onHost, resetHosts } from './helpers/deploy.js';
import { convergedOn, failuresBeyondRestart, faultProject, isStep, parseEvents, pauseHost, quickSsh, RESTART_FAILURE, restartOnHost, settledTruth, startGangway, statusFrom, statusMismatches, underFaultLoad, unpauseHost, waitServing } from './helpers/faults.js';

const info = inject('sandbox');
const REPO = 'faults-host/hello';
let project: string;
const run = (args: string[], timeoutMs = 150_000) => gangway(args, { cwd: project, timeoutMs });
const measured: string[] = [];

/** The proxy's master process as the host sees it (inner containers share the host's view). */
const crashProxy = (host: string) => onHost(info, host, "kill -9 $(docker inspect --format '{{.State.Pid}}' gangway-proxy) && echo killed");

async function waitProxyUp(host: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await onHost(info, host, "docker inspect --format '{{.State.Running}}' gangway-proxy")).trim() === 'true' && (await onHost(info, host, 'test -S /var/lib/gangway/proxy/admin.sock && echo ok')).includes('ok')) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the proxy on ${host} did not come back`);
}

/**
 * SIGTERM to every sshd process, again while one is left (bounded: 20 more tries, 0.1 s apart);
 * prints `killed <kills>` or `left`. A zombie (killed, not yet reaped) does not count as left.
 */
const KILL_EVERY_SSHD = [
  'alive() { ps -eo stat=,comm= | awk \'$1 !~ /^Z/ && $2 == "sshd" { f = 1 } END { exit !f }\'; }',
  'pkill -x sshd || exit 1',
  'n=1 i=0',
  'while [ $i -lt 20 ] && alive; do sleep 0.1; i=$((i + 1)); alive && pkill -x sshd && n=$((n + 1)); done',
  'alive && echo left || echo "killed $n"',
].join('\n');

describe('hosts and proxies that fail', () => {
  beforeAll(async () => {
    project = await faultProject(info, { repo: REPO, versions: ['1.0.0', '2.0.0', '3.0.0', ['4.0.0', 'uptest-slow']], extra: { ssh: quickSsh(info) } });
  }, 600_000);

  afterAll(async () => {
    if (measured.length > 0) console.info(`faults-host measurements:\n${measured.join('\n')}`);
    await unpauseHost(info, 'vm2').catch(() => {});
    await resetHosts(info);
  });

  it('a host that dies mid-deploy: the deploy fails naming it, the others stay on one version, the next deploy converges', async () => {
    const t0 = Date.now();
    let summary = '';
    // Load only through vm1: requests to a frozen host fail because it is frozen.
    const { result, load } = await underFaultLoad(info, 150_000, async () => {
      const cli = startGangway(['deploy', '--version', '2.0.0'], { cwd: project, timeoutMs: 120_000 });
      await cli.waitFor(isStep('health', 'start', 'vm2'), 'vm2 health');
      await pauseHost(info, 'vm2');
      return cli.result;
    }, undefined, ['vm1']);
    const tookMs = Date.now() - t0;
    try {
      expect(result.code, result.output.slice(-4000)).toBe(1);
      const done = parseEvents(result.stdout).find((e) => e.type === 'done') as { message: string } | undefined;
      summary = done?.message ?? result.stderr.trim().split('\n')[0] ?? '';
      expect(summary, result.output.slice(-4000)).toMatch(/vm2/);
      // The summary says where the others are, and does not guess about the dead one.
      expect(summary).toMatch(/vm1 web: 1\.0\.0/);
      expect(summary).toMatch(/vm3 workers: 1\.0\.0/);
      expect(summary).not.toMatch(/\(nothing\)/);
      expect(load.failures).toEqual([]);
      measured.push(`| host frozen mid-deploy (vm2 paused at its health wait) | ${load.requests} | ${load.failed} | exit ${result.code} after ${(tookMs / 1000).toFixed(1)} s: ${summary.slice(0, 300)} |`);
    } finally {
      await unpauseHost(info, 'vm2');
    }
    const afterReturn = await settledTruth(info);
    const vm1 = afterReturn.find((t) => t.host === 'vm1')!;
    const vm3 = afterReturn.find((t) => t.host === 'vm3')!;
    expect(vm1.runningByRole.web).toEqual(['hello-web-1.0.0']);
    expect(vm1.served).toEqual(['1.0.0']);
    expect(vm3.runningByRole.workers).toEqual(['hello-workers-1.0.0']);
    // Status tells the truth about vm2 too, whatever the undo managed before it froze.
    expect(statusMismatches(statusFrom(await run(['status', '--json'])), afterReturn)).toEqual([]);
    const lock = await run(['lock', 'status']);
    expect(lock.output).toContain('free');

    const next = await run(['deploy', '--version', '2.0.0']);
    expect(next.code, next.output).toBe(0);
    expect(convergedOn(await settledTruth(info), '2.0.0')).toEqual([]);
  });

  // A proxy restart drops the connections it held: vm1 may lose those (reset or refused, from the
  // fault until it serves again), vm2 nothing.
  for (const [what, fault, word] of [
    ['crashes (kill -9)', () => crashProxy('vm1'), 'killed'],
    ['is restarted (docker restart)', () => restartOnHost(info, 'vm1', 'gangway-proxy'), 'restarted'],
  ] as const) {
    it(`the proxy ${what} at rest: the same routes, only its own connections lost`, async () => {
      let t0 = 0;
      let servingMs: number | undefined;
      const { load } = await underFaultLoad(info, 60_000, async () => {
        await new Promise((r) => setTimeout(r, 1500));
        t0 = Date.now();
        expect(await fault()).toContain(word);
        await waitProxyUp('vm1');
        servingMs = await waitServing(info, 'vm1', '2.0.0', t0, 20_000);
        await new Promise((r) => setTimeout(r, 1500));
      });
      expect(servingMs, 'vm1 did not serve 2.0.0 again within 20 s').toBeDefined();
      expect(failuresBeyondRestart(load, 'vm1', { from: t0, until: t0 + servingMs! }, RESTART_FAILURE)).toEqual([]);
      const truth = await settledTruth(info);
      expect(convergedOn(truth, '2.0.0')).toEqual([]);
      expect(statusMismatches(statusFrom(await run(['status', '--json'])), truth)).toEqual([]);
      measured.push(`| proxy on vm1 ${what}, at rest | ${load.byHost.vm1!.requests} (vm1), ${load.byHost.vm2!.requests} (vm2) | ${load.byHost.vm1!.failed}, ${load.byHost.vm2!.failed} | serving again after ${(servingMs! / 1000).toFixed(1)} s; ${load.failures.join('; ') || '-'} |`);
    });
  }

  it('the proxy restarts during a drain: the deploy still ends on one version everywhere', async () => {
    const { result, load } = await underFaultLoad(info, 150_000, async () => {
      const cli = startGangway(['deploy', '--version', '3.0.0'], { cwd: project });
      await cli.waitFor(isStep('drain', 'start', 'vm1'), 'the drain on vm1');
      await restartOnHost(info, 'vm1', 'gangway-proxy');
      const r = await cli.result;
      await waitProxyUp('vm1');
      return r;
    });
    // The deploy ends on the new version everywhere by itself: exit 0, and converged before any
    // other command runs. Only vm1's restart may cost requests, of the kinds a restart cuts.
    expect(result.code, result.output.slice(-3000)).toBe(0);
    const truth = await settledTruth(info);
    const vm1 = truth.find((t) => t.host === 'vm1')!;
    expect(convergedOn(truth, '3.0.0'), result.output.slice(-3000)).toEqual([]);
    expect(statusMismatches(statusFrom(await run(['status', '--json'])), truth)).toEqual([]);
    expect(load.byHost.vm2!.failed, load.byHost.vm2!.failures.join('; ')).toBe(0);
    expect(load.byHost.vm1!.failures.filter((k) => !RESTART_FAILURE.test(k))).toEqual([]);
    measured.push(`| proxy on vm1 restarted during the drain | ${load.byHost.vm1!.requests} (vm1), ${load.byHost.vm2!.requests} (vm2) | ${load.byHost.vm1!.failed}, ${load.byHost.vm2!.failed} | exit ${result.code}; vm1 runs ${JSON.stringify(vm1.runningByRole.web)}; ${load.failures.join('; ') || '-'} |`);
  });

  it('sshd on vm2 is killed during its uptests: the deploy fails naming vm2, the others stay on one version, and once sshd is back the next deploy converges', async () => {
    const t0 = Date.now();
    let killLateMs = 0;
    let kills = '';
    const { result, load } = await underFaultLoad(info, 150_000, async () => {
      const cli = startGangway(['deploy', '--version', '4.0.0'], { cwd: project, timeoutMs: 120_000 });
      await cli.waitFor(isStep('uptests', 'start', 'vm2'), 'vm2 uptests');
      const seen = Date.now();
      // Every sshd process: the listener and the session gangway is using. Killed again until
      // none is left: a connection the listener was forking as the first kill came would outlive it.
      kills = await onHost(info, 'vm2', KILL_EVERY_SSHD);
      expect(kills).toMatch(/^killed \d+/m);
      // The fault must land inside vm2's 12 s uptest (uptest-slow), or this tests something else.
      killLateMs = Date.now() - seen;
      return cli.result;
    });
    const tookMs = Date.now() - t0;
    let summary = '';
    try {
      expect(killLateMs, `the kill came ${killLateMs} ms after vm2's uptests began, past its 12 s uptest: the test bed was too slow to inject the fault`).toBeLessThan(10_000);
      expect(result.code, result.output.slice(-4000)).toBe(1);
      const done = parseEvents(result.stdout).find((e) => e.type === 'done') as { message: string } | undefined;
      summary = done?.message ?? result.stderr.trim().split('\n')[0] ?? '';
      expect(summary, result.output.slice(-4000)).toMatch(/vm2/);
      // What failed is the connection (seen first by the uptests' runner, or by the watch on the
      // app container), not an uptest or a container.
      expect(summary).toMatch(/cannot connect to vm2|no result: 00-slow/);
      expect(result.output).toMatch(/cannot connect to vm2|lost the connection to vm2 before the uptests ended/);
      expect(result.output).not.toMatch(/container ended before it did/);
      // The others stayed on 3.0.0: listed per host when vm2 could not be read afterwards, or as
      // one version when it could (whether gangway reached vm2 again before the summary depends
      // on when in the uptests the kill lands).
      if (!/every host is on 3\.0\.0/.test(summary)) {
        expect(summary).toMatch(/vm1 web: 3\.0\.0/);
        expect(summary).toMatch(/vm3 workers: 3\.0\.0/);
      }
      expect(load.failures).toEqual([]);
      measured.push(`| sshd on vm2 killed at its uptests | ${load.requests} | ${load.failed} | ${kills.trim()} times (sshd's processes), ${(killLateMs / 1000).toFixed(1)} s into the uptests; exit ${result.code} after ${(tookMs / 1000).toFixed(1)} s: ${summary.slice(0, 300)} |`);
    } finally {
      await onHost(info, 'vm2', '/usr/sbin/sshd -E /var/log/sshd.log && echo started');
    }
    const truth = await settledTruth(info);
    const vm1 = truth.find((t) => t.host === 'vm1')!;
    expect(vm1.runningByRole.web).toEqual(['hello-web-3.0.0']);
    expect(vm1.served).toEqual(['3.0.0']);
    // vm2 still serves through its own proxy: gangway never switched it.
    expect(truth.find((t) => t.host === 'vm2')!.served).toEqual(['3.0.0']);
    expect(statusMismatches(statusFrom(await run(['status', '--json'])), truth)).toEqual([]);
    expect((await run(['lock', 'status'])).output).toContain('free');
    const next = await run(['deploy', '--version', '4.0.0']);
    expect(next.code, next.output).toBe(0);
    expect(convergedOn(await settledTruth(info), '4.0.0')).toEqual([]);
  });
});
