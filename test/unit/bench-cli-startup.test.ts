import { describe, expect, it } from 'vitest';
import { bundleGain, deploySample, median, startupSplit, startupTable } from '../../bench/cli-startup/report.js';
import type { CliRun } from '../../bench/zero-downtime/cli.js';
import type { GangwayEvent } from '../../src/events/events.js';

const failedAtConnect = (firstTs: number, code = 1, message = 'error: [connect] cannot reach vm1; nothing was changed'): CliRun => ({
  args: [],
  code,
  wallMs: 412.5,
  stderr: '',
  events: [
    { type: 'log', level: 'info', message: 'deploy x:1.0.0', ts: firstTs },
    { type: 'step', step: 'connect', status: 'fail', ts: firstTs + 20 },
    { type: 'done', ok: false, command: 'deploy', message, exitCode: code, ts: firstTs + 30 },
  ] satisfies GangwayEvent[],
});

describe('the CLI start-up bench', () => {
  it('times a deploy from the spawn to its first event, and adds the process\'s user and system CPU', () => {
    expect(deploySample(failedAtConnect(10_345), 10_000, { cpuUserMs: 300, cpuSystemMs: 45.5 })).toEqual({ startupMs: 345, wallMs: 412.5, cpuMs: 345.5 });
  });

  it('refuses a run that did not fail at connect, or left no figures', () => {
    expect(deploySample(failedAtConnect(10_345, 2, 'error: gangway.yml:3:1 hosts: bad'), 10_000, { cpuUserMs: 1, cpuSystemMs: 1 })).toMatch(/exited 2, expected 1 at connect: .*hosts: bad/);
    expect(deploySample(failedAtConnect(10_345, 0, 'deployed'), 10_000, { cpuUserMs: 1, cpuSystemMs: 1 })).toMatch(/exited 0/);
    expect(deploySample(failedAtConnect(10_345), 10_000, undefined)).toMatch(/no stats file/);
    expect(deploySample({ ...failedAtConnect(1), events: [] }, 0, { cpuUserMs: 1, cpuSystemMs: 1 })).toMatch(/exited 1/);
  });

  it('takes the median of odd and even counts', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('shows each row beside node alone, and splits the deploy start-up into the libraries and the rest', () => {
    const rows = startupTable([{ name: 'node', samples: [50, 40, 60] }, { name: 'deploy', samples: [200, 150, 400] }], 50, 3);
    expect(rows.slice(2)).toEqual(['| node | 50.0 | 40.0 - 60.0 | 1.00 x |', '| deploy | 200.0 | 150.0 - 400.0 | 4.00 x |']);
    expect(startupSplit({ nodeMs: 50, librariesMs: 170, deployStartupMs: 300 })).toMatch(/over node alone: 250\.0 ms, .* 120\.0 ms; the other 130\.0 ms/);
  });

  it('says what the bundle saves, or costs, from the medians it is given', () => {
    expect(bundleGain({ bundledStartupMs: 300, unbundledStartupMs: 440, bundledCpuMs: 430, unbundledCpuMs: 560 })).toBe('Bundled, the deploy reaches its first event 140.0 ms sooner than unbundled and uses 130.0 ms less CPU (medians of the same runs).');
    expect(bundleGain({ bundledStartupMs: 450, unbundledStartupMs: 440, bundledCpuMs: 570, unbundledCpuMs: 560 })).toBe('Bundled, the deploy reaches its first event 10.0 ms later than unbundled and uses 10.0 ms more CPU (medians of the same runs).');
  });
});
