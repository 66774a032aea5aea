import { describe, expect, it } from 'vitest';
import type { CliRun } from '../../bench/zero-downtime/cli.js';
import { timingOf } from '../../bench/zero-downtime/phase.js';
import { ratioMedians, timesTable, type TimesRound } from '../../bench/zero-downtime/report.js';

const run = (data: Record<string, unknown> | undefined): CliRun => ({
  args: [],
  code: 0,
  wallMs: 0,
  stderr: '',
  events: data ? [{ type: 'result', kind: 'timing', data, ts: 1 }] : [{ type: 'log', level: 'info', message: 'x', ts: 1 }],
});

describe('the zero-downtime bench: time to live and total', () => {
  it('reads both figures from the timing event; a failed command was never live', () => {
    expect(timingOf(run({ timeToLiveMs: 4200, totalMs: 6100 }))).toEqual({ liveMs: 4200, totalMs: 6100 });
    expect(timingOf(run({ timeToLiveMs: null, totalMs: 9000 }))).toEqual({ liveMs: null, totalMs: 9000 });
    expect(timingOf(run(undefined))).toBeUndefined();
  });

  const round = (deployLive: number, deployTotal: number, bareLive: number, bareTotal: number): TimesRound => ({
    gangway: [
      { what: 'deploy', liveMs: deployLive, totalMs: deployTotal, loadAvg: '1.0 2.0 3.0' },
      { what: 'failed deploy', liveMs: null, totalMs: 7500 },
    ],
    bare: { what: 'bare', liveMs: bareLive, totalMs: bareTotal, loadAvg: '0.5 1.0 1.5' },
  });

  it("puts each command beside its round's bare baseline, with ratios of both figures", () => {
    const text = timesTable([round(6000, 9000, 3000, 4500), round(3000, 4500, 3000, 4500)]);
    expect(text.split('\n').slice(2)).toEqual([
      '| 1 | deploy | 6.00 | 9.00 | 2.00x | 2.00x | 1.0 2.0 3.0 |',
      '| 1 | failed deploy | never (failed) | 7.50 | - | 1.67x | - |',
      '| 1 | bare | 3.00 | 4.50 | 1.00x | 1.00x | 0.5 1.0 1.5 |',
      '| 2 | deploy | 3.00 | 4.50 | 1.00x | 1.00x | 1.0 2.0 3.0 |',
      '| 2 | failed deploy | never (failed) | 7.50 | - | 1.67x | - |',
      '| 2 | bare | 3.00 | 4.50 | 1.00x | 1.00x | 0.5 1.0 1.5 |',
    ]);
  });

  it("takes the median of each command's ratios over the rounds; a command never live has no live median", () => {
    const [deploy, failed] = ratioMedians([round(6000, 9000, 3000, 4500), round(3300, 4500, 3000, 4500), round(3000, 5000, 3000, 4000)]);
    expect(deploy!.live).toBeCloseTo(1.1);
    expect(deploy!.total).toBeCloseTo(1.25);
    expect(deploy!.totals.map((x) => Number(x.toFixed(2)))).toEqual([2, 1, 1.25]);
    expect(failed!.live).toBeNull();
    expect(failed!.total).toBeCloseTo(1.67, 2);
  });
});
