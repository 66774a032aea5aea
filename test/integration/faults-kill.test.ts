// Issue 5, scenario 1: the CLI is killed (SIGKILL, no chance to clean up) at each step of a deploy
// in turn, under load through both web proxies. At every point `gangway status` tells the truth,
// the lock left behind names its dead holder, and a rerun (after `gangway lock release`) finishes
// the job without ever starting a second copy of a container. Web on vm1+vm2, workers on vm3.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { GangwayEvent } from '../../src/events/events.js';
import { gangway, resetHosts } from './helpers/deploy.js';
import { allTruth, convergedOn, eventTrail, faultProject, isStep, parseEvents, settledTruth, startGangway, statusFrom, statusMismatches, underFaultLoad } from './helpers/faults.js';

const info = inject('sandbox');
const REPO = 'faults-kill/hello';
let project: string;
const run = (args: string[], timeoutMs = 150_000) => gangway(args, { cwd: project, timeoutMs });

/** Where to kill: the first --json event matching. */
interface KillPoint {
  name: string;
  at: () => (e: GangwayEvent) => boolean;
  /** Whether a web host's proxy already serves the new version when the kill lands. */
  switched: boolean;
}

const KILL_POINTS: KillPoint[] = [
  {
    name: 'after the pull',
    at: () => {
      let pulled = 0;
      return (e) => isStep('pull', 'done')(e) && ++pulled === 3;
    },
    switched: false,
  },
  { name: 'after the new container started', at: () => isStep('start', 'done', 'vm1'), switched: false },
  { name: 'during the health wait', at: () => isStep('health', 'start', 'vm1'), switched: false },
  { name: 'during the uptests', at: () => (e) => e.type === 'step' && e.step.startsWith('uptest ') && e.status === 'start' && e.host === 'vm1', switched: false },
  { name: 'right after the first host switched', at: () => isStep('proxy switch', 'done'), switched: true },
  { name: 'during the drain', at: () => isStep('drain', 'start'), switched: true },
];

const VERSIONS = ['1.0.0', ...KILL_POINTS.map((_, i) => `${i + 2}.0.0`)];
/** What each scenario measured, printed at the end for RELIABILITY.md. */
const measured: string[] = [];

describe('the deploy CLI killed at each step', () => {
  beforeAll(async () => {
    project = await faultProject(info, { repo: REPO, versions: VERSIONS });
  }, 600_000);

  afterAll(async () => {
    if (measured.length > 0) console.info(`faults-kill measurements:\n${measured.join('\n')}`);
    await resetHosts(info);
  });

  KILL_POINTS.forEach((point, i) => {
    const from = VERSIONS[i]!;
    const to = VERSIONS[i + 1]!;

    it(`killed ${point.name} (${from} -> ${to}): status tells the truth, the rerun converges`, async () => {
      const { result, load } = await underFaultLoad(info, 240_000, async () => {
        const cli = startGangway(['deploy', '--version', to], { cwd: project });
        const match = point.at();
        const reached = await cli.waitFor(match, point.name);
        cli.child.kill('SIGKILL');
        const killed = await cli.result;

        // Right after the kill: whatever state the hosts are in, status says exactly that.
        const truthAfterKill = await settledTruth(info);
        const status = statusFrom(await run(['status', '--json']));
        // The lock is held by the dead process, and every command that meets it says so.
        const lock = await run(['lock', 'status']);
        const blocked = await run(['deploy', '--version', to]);
        const released = await run(['lock', 'release']);

        const rerun = await run(['deploy', '--version', to, '--json']);
        const after = statusFrom(await run(['status', '--json']));
        return { reached, killed, killedTrail: eventTrail(cli.events), truthAfterKill, status, lock, blocked, released, rerun, after };
      });
      const r = result;
      const context = `${point.name}\n--- killed run:\n${r.killedTrail}\n--- rerun:\n${r.rerun.output.slice(-4000)}`;

      expect(r.killed.code, context).toBe(137);
      expect(statusMismatches(r.status, r.truthAfterKill), context).toEqual([]);
      expect(r.status.lock.held).toBe(true);
      expect(r.lock.output).toMatch(/held by .* deploying [\d.]+.*pid \d+ is not running on this machine/);
      expect(r.blocked.code).toBe(3);
      expect(r.blocked.output).toMatch(/is not running on this machine/);
      expect(r.blocked.output).toMatch(/gangway lock release/);
      expect(r.released.code, r.released.output).toBe(0);
      expect(r.released.output).toMatch(/released the lock held by/);

      expect(r.rerun.code, context).toBe(0);
      // The rerun never starts a second copy: a (host, role) the proxy already routes to the new
      // version is resumed, not restarted.
      const rerunEvents = parseEvents(r.rerun.stdout);
      const switchedBeforeKill = r.truthAfterKill.filter((t) => t.served?.includes(to) && !t.served.includes(VERSIONS[i]!)).map((t) => t.host);
      // The row's "resumed, not restarted" needs a switched host to resume; before the switch none is.
      if (point.switched) expect(switchedBeforeKill.length, context).toBeGreaterThan(0);
      else expect(switchedBeforeKill, context).toEqual([]);
      for (const host of switchedBeforeKill) {
        expect(rerunEvents.some((e) => isStep('start', 'start', host)(e) && e.role === 'web'), `${host} was already switched: ${context}`).toBe(false);
        expect(rerunEvents.some((e) => e.type === 'log' && e.host === host && /already live/.test(e.message)), context).toBe(true);
      }

      expect(convergedOn(await allTruth(info), to), context).toEqual([]);
      expect(statusMismatches(r.after, await allTruth(info))).toEqual([]);
      expect(r.after.lock.held).toBe(false);
      // Killing the CLI never drops a request: old and new containers both stay up until a proxy
      // has switched, and the proxy's switch and drain are atomic on its side.
      // Per host, with the first and last failure's time (epoch ms, as the events' ts), to place them.
      expect(load.failures, `${JSON.stringify(load.byHost)}\n${context}`).toEqual([]);
      expect(load.requests).toBeGreaterThan(50);
      measured.push(`| killed ${point.name} | ${load.requests} | ${load.failed} | ${switchedBeforeKill.join(', ') || '-'} | ${JSON.stringify(load.servedVersions)} |`);
    });
  });
});
