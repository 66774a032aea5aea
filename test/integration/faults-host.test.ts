// Issue 5, scenarios 3 and 5: a host that dies mid-deploy (its sandbox container frozen with
// `docker pause`: sshd, dockerd and the app stop answering at once; or its sshd killed), and the proxy container
// restarting (crashed, and restarted by an admin) at rest and during a drain. Routes survive a
// proxy restart because haproxy.cfg on the host is kept equal to the runtime state; the restart
// itself drops the connections it had, and those failures are counted (bench/proxy-restart).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { gangway, onHost, resetHosts } from './helpers/deploy.js';
import { convergedOn, faultProject, isStep, parseEvents, pauseHost, quickSsh, restartOnHost, settledTruth, startGangway, statusFrom, statusMismatches, underFaultLoad, unpauseHost } from './helpers/faults.js';

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

describe('hosts and proxies that fail', () => {
  beforeAll(async () => {
    project = await faultProject(info, { repo: REPO, versions: ['1.0.0', '2.0.0', '3.0.0', '4.0.0'], extra: { ssh: quickSsh(info) } });
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

  it('the proxy crashes at rest: its restart policy brings it back with the same routes', async () => {
    const { load } = await underFaultLoad(info, 60_000, async () => {
      await new Promise((r) => setTimeout(r, 1500));
      expect(await crashProxy('vm1')).toContain('killed');
      await waitProxyUp('vm1');
      await new Promise((r) => setTimeout(r, 1500));
    });
    const truth = await settledTruth(info);
    expect(convergedOn(truth, '2.0.0')).toEqual([]);
    expect(statusMismatches(statusFrom(await run(['status', '--json'])), truth)).toEqual([]);
    measured.push(`| proxy on vm1 crashes (kill -9), at rest | ${load.requests} | ${load.failed} | ${load.failures.join('; ') || '-'} |`);
  });

  it('the proxy is restarted at rest: the same routes, the failures counted', async () => {
    const { load } = await underFaultLoad(info, 60_000, async () => {
      await new Promise((r) => setTimeout(r, 1500));
      expect(await restartOnHost(info, 'vm1', 'gangway-proxy')).toContain('restarted');
      await waitProxyUp('vm1');
      await new Promise((r) => setTimeout(r, 1500));
    });
    const truth = await settledTruth(info);
    expect(convergedOn(truth, '2.0.0')).toEqual([]);
    measured.push(`| proxy on vm1 restarted (docker restart), at rest | ${load.requests} | ${load.failed} | ${load.failures.join('; ') || '-'} |`);
  });

  it('the proxy restarts during a drain: the deploy still ends on one version everywhere', async () => {
    const { result, load } = await underFaultLoad(info, 150_000, async () => {
      const cli = startGangway(['deploy', '--version', '3.0.0'], { cwd: project });
      await cli.waitFor(isStep('drain', 'start', 'vm1'), 'the drain on vm1');
      await restartOnHost(info, 'vm1', 'gangway-proxy');
      const r = await cli.result;
      await waitProxyUp('vm1');
      return r;
    });
    // A drain cut by the restart is reported; the old container may be left for the next deploy.
    const truth = await settledTruth(info);
    const vm1 = truth.find((t) => t.host === 'vm1')!;
    expect(vm1.served).toEqual(['3.0.0']);
    measured.push(`| proxy on vm1 restarted during the drain | ${load.requests} | ${load.failed} | exit ${result.code}; vm1 runs ${JSON.stringify(vm1.runningByRole.web)}; ${load.failures.join('; ') || '-'} |`);
    if (result.code === 0 && convergedOn(truth, '3.0.0').length > 0) {
      // The finish was cut short on vm1: the next deploy of the same version completes it.
      const next = await run(['deploy', '--version', '3.0.0']);
      expect(next.code, next.output).toBe(0);
    }
    expect(convergedOn(await settledTruth(info), '3.0.0'), result.output.slice(-3000)).toEqual([]);
    expect(statusMismatches(statusFrom(await run(['status', '--json'])), await settledTruth(info))).toEqual([]);
  });

  it('sshd on vm2 is killed during its uptests: the deploy fails naming vm2, the others stay on one version, and once sshd is back the next deploy converges', async () => {
    const t0 = Date.now();
    const { result, load } = await underFaultLoad(info, 150_000, async () => {
      const cli = startGangway(['deploy', '--version', '4.0.0'], { cwd: project, timeoutMs: 120_000 });
      await cli.waitFor(isStep('uptests', 'start', 'vm2'), 'vm2 uptests');
      // Every sshd process: the listener and the session gangway is using.
      expect(await onHost(info, 'vm2', 'pkill -x sshd && echo killed')).toContain('killed');
      return cli.result;
    }, undefined, ['vm1']);
    const tookMs = Date.now() - t0;
    let summary = '';
    try {
      expect(result.code, result.output.slice(-4000)).toBe(1);
      const done = parseEvents(result.stdout).find((e) => e.type === 'done') as { message: string } | undefined;
      summary = done?.message ?? result.stderr.trim().split('\n')[0] ?? '';
      expect(summary, result.output.slice(-4000)).toMatch(/vm2/);
      expect(summary).toMatch(/vm1 web: 3\.0\.0/);
      expect(summary).toMatch(/vm3 workers: 3\.0\.0/);
      expect(load.failures).toEqual([]);
      measured.push(`| sshd on vm2 killed at its uptests | ${load.requests} (vm1) | ${load.failed} | exit ${result.code} after ${(tookMs / 1000).toFixed(1)} s: ${summary.slice(0, 300)} |`);
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
