import { describe, expect, it } from 'vitest';
import type { CliRun } from '../../bench/zero-downtime/cli.js';
import { timingOf } from '../../bench/zero-downtime/phase.js';
import { timesTable } from '../../bench/zero-downtime/report.js';

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

  it('puts each command beside the bare baseline, with ratios of both figures', () => {
    const text = timesTable(
      [
        { what: 'deploy', liveMs: 6000, totalMs: 9000, loadAvg: '1.0 2.0 3.0' },
        { what: 'failed deploy', liveMs: null, totalMs: 7500 },
      ],
      { what: 'bare', liveMs: 3000, totalMs: 4500, loadAvg: '0.5 1.0 1.5' },
    );
    expect(text.split('\n').slice(2)).toEqual([
      '| deploy | 6.00 | 9.00 | 2.00x | 2.00x | 1.0 2.0 3.0 |',
      '| failed deploy | never (failed) | 7.50 | - | 1.67x | - |',
      '| bare | 3.00 | 4.50 | 1.00x | 1.00x | 0.5 1.0 1.5 |',
    ]);
  });
});
