// Issue 5, scenario 2: SIGINT/SIGTERM (Ctrl-C, a CI job cancelled) during a deploy. gangway
// starts no new work, brings every host back to the version it had, releases the lock and exits
// 130 with a summary. Once every host has switched, the deploy is finished instead (the drain is
// bounded by drain_timeout): going back then would be the bigger change.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { GangwayEvent } from '../../src/events/events.js';
import { gangway, resetHosts } from './helpers/deploy.js';
import { auditLines, convergedOn, eventTrail, faultProject, isStep, settledTruth, startGangway, statusFrom, statusMismatches, underFaultLoad } from './helpers/faults.js';

const info = inject('sandbox');
const REPO = 'faults-interrupt/hello';
let project: string;
const run = (args: string[], timeoutMs = 150_000) => gangway(args, { cwd: project, timeoutMs });

interface Interrupt {
  name: string;
  signal: 'SIGINT' | 'SIGTERM';
  at: (e: GangwayEvent) => boolean;
  /** What the deploy must end in: undone (130, old version) or finished (0, new version). */
  ends: 'undone' | 'finished';
}

const INTERRUPTS: Interrupt[] = [
  { name: 'during the pull', signal: 'SIGINT', at: isStep('pull', 'start'), ends: 'undone' },
  { name: 'during the health wait', signal: 'SIGINT', at: isStep('health', 'start', 'vm1'), ends: 'undone' },
  { name: 'during the uptests', signal: 'SIGTERM', at: (e) => e.type === 'step' && e.step.startsWith('uptest ') && e.status === 'start', ends: 'undone' },
  { name: 'right after the first host switched', signal: 'SIGINT', at: isStep('proxy switch', 'done'), ends: 'undone' },
  { name: 'during the drain', signal: 'SIGTERM', at: isStep('drain', 'start'), ends: 'finished' },
];

const measured: string[] = [];

describe('a deploy interrupted by SIGINT/SIGTERM', () => {
  let live = '1.0.0';
  beforeAll(async () => {
    project = await faultProject(info, { repo: REPO, versions: ['1.0.0', ...INTERRUPTS.map((_, i) => `1.1.${i}`)] });
  }, 600_000);

  afterAll(async () => {
    if (measured.length > 0) console.info(`faults-interrupt measurements:\n${measured.join('\n')}`);
    await resetHosts(info);
  });

  INTERRUPTS.forEach((point, i) => {
    const to = `1.1.${i}`;
    it(`${point.signal} ${point.name}: ${point.ends === 'undone' ? 'every host back on the old version, exit 130' : 'the deploy finishes, exit 0'}`, async () => {
      const from = live;
      const auditBefore = (await auditLines(info, 'vm1')).length;
      const { result, load } = await underFaultLoad(info, 180_000, async () => {
        const cli = startGangway(['deploy', '--version', to], { cwd: project });
        await cli.waitFor(point.at, point.name);
        cli.child.kill(point.signal);
        const r = await cli.result;
        return { r, trail: eventTrail(cli.events), events: cli.events };
      });
      const context = `${point.name}\n${result.trail}\n${result.r.stderr.slice(-3000)}`;
      const want = point.ends === 'undone' ? from : to;

      expect(result.r.code, context).toBe(point.ends === 'undone' ? 130 : 0);
      const stopping = result.events.find((e) => e.type === 'log' && /stopping; bringing every host back to one version/.test(e.message));
      expect(stopping, context).toBeDefined();
      if (point.ends === 'undone') {
        // The summary says what happened and where every host is now.
        expect(result.r.output, context).toMatch(new RegExp(`interrupted.*(every host is on ${from.replace(/\./g, '\\.')}|before any host changed)`));
        // No new work after the signal: no container started after it.
        const at = result.events.indexOf(stopping!);
        expect(result.events.slice(at).some((e) => isStep('start', 'start')(e)), context).toBe(false);
      }
      const truth = await settledTruth(info);
      expect(convergedOn(truth, want), context).toEqual([]);
      const status = statusFrom(await run(['status', '--json']));
      expect(statusMismatches(status, truth)).toEqual([]);
      expect(status.lock.held, 'the lock is released').toBe(false);
      // The audit log records the interrupted deploy too.
      const audit = await auditLines(info, 'vm1');
      expect(audit.length).toBe(auditBefore + 1);
      expect(audit.at(-1)).toContain(point.ends === 'undone' ? '"result":"failed"' : '"result":"ok"');
      expect(load.failures, context).toEqual([]);
      measured.push(`| ${point.signal} ${point.name} | ${load.requests} | ${load.failed} | exit ${result.r.code}, on ${want} |`);
      live = want;
    });
  });

  it('after all that, the next deploy converges', async () => {
    const r = await run(['deploy', '--version', '1.1.0']);
    expect(r.code, r.output).toBe(0);
    expect(convergedOn(await settledTruth(info), '1.1.0')).toEqual([]);
  });
});
