import { describe, expect, it } from 'vitest';
import { emptyStats } from '../../src/hosts/stats.js';
import type { HostStats } from '../../src/hosts/host.js';
import { goals, linearFit, marginal, medianRow, roundTrips, roundTripsPerOtherHost, svgPlot, table, type SizeResult } from '../../bench/scale/report.js';

const st = (over: Partial<HostStats>): HostStats => ({ ...emptyStats(), ...over });

/** A size whose numbers are made from its host count, so each check has its own expectation. */
function size(n: number, cpuBase: number, cpuPerHost: number, perOther: number): SizeResult {
  const stats: Record<string, HostStats> = { vm1: st({ connections: 1, execChannels: 10, dockerRequests: 20 }) };
  for (let i = 2; i <= n; i++) stats[`vm${i}`] = st({ connections: 1, execChannels: 2, dockerRequests: perOther - 3 });
  return {
    hosts: n,
    gangway: { wallMs: 1000 * n, ownMs: 950 * n, timeToLiveMs: 800 * n, totalMs: 1000 * n, cpuUserMs: cpuBase + cpuPerHost * n, cpuSystemMs: 0, maxRssKb: 100 * 1024, stats },
    baseline: { timeToLiveMs: 700 * n, totalMs: 900 * n, inProcessTotalMs: 850 * n, stats },
    load: ['1', '2', '3'],
  };
}

describe('bench/scale report', () => {
  it('counts one round trip per handshake, channel, stream, request and forward', () => {
    expect(roundTrips(st({ connections: 1, execChannels: 2, dockerStreams: 3, dockerRequests: 4, forwards: 5 }))).toBe(15);
  });

  it('keeps the lock holder apart and takes the marginal cost per added host', () => {
    const rows = [size(1, 500, 40, 12), size(3, 500, 40, 12), size(6, 500, 40, 12)];
    expect(roundTripsPerOtherHost(rows[0]!.gangway, 'vm1')).toBeUndefined();
    expect(roundTripsPerOtherHost(rows[2]!.gangway, 'vm1')).toBe(12);
    expect(marginal(rows, (r) => r.gangway.cpuUserMs).map((m) => m.perHost)).toEqual([40, 40]);
  });

  it('judges the goals from the numbers', () => {
    const flat = goals([size(3, 500, 40, 12), size(6, 500, 40, 12)], 'vm1');
    expect(flat[0]).toMatch(/1\.11x .*: met \(12 hosts not measured.*first connection to its end\): 1\.12x, met/);
    expect(flat[1]).toMatch(/12\.0, 12\.0: constant/);
    expect(flat[3]).toMatch(/3→6: 40: one size only/);
    const growing = goals([size(3, 500, 40, 12), size(6, 500, 40, 20), size(12, 500, 80, 30)], 'vm1');
    expect(growing[1]).toMatch(/NOT constant/);
    expect(growing[3]).toMatch(/3→6: 40, 6→12: 120: NOT constant/);
    expect(growing[4]).toMatch(/farthest size \d+ % from it: NOT a straight line/);
    expect(flat[4]).toMatch(/2 sizes only: not judged/);
    const noisy = goals([size(1, 500, 40, 12), size(3, 520, 40, 12), size(6, 470, 40, 12), size(12, 510, 40, 12)], 'vm1');
    expect(noisy[3]).toMatch(/NOT constant/);
    expect(noisy[4]).toMatch(/the same cost per added host/);
  });

  it('fits a straight line by least squares and says how far the farthest point lies from it', () => {
    const exact = linearFit([[1, 140], [3, 220], [6, 340], [12, 580]]);
    expect(exact.slope).toBeCloseTo(40);
    expect(exact.intercept).toBeCloseTo(100);
    expect(exact.worst).toBeCloseTo(0);
    const bent = linearFit([[1, 100], [2, 100], [3, 400]]);
    expect(bent.slope).toBeCloseTo(150);
    expect(bent.intercept).toBeCloseTo(-100);
    expect(bent.worst).toBeCloseTo(1);
  });

  it('takes the median of each number over the runs of a size', () => {
    const row = medianRow([size(3, 500, 40, 12), size(3, 900, 40, 20), size(3, 700, 40, 14)]);
    expect(row.gangway.cpuUserMs).toBe(820);
    expect(row.gangway.stats.vm2!.dockerRequests).toBe(11);
    expect(row.ratios).toHaveLength(3);
  });

  it('draws one line per series and a row per size', () => {
    const rows = [size(1, 500, 40, 12), size(3, 500, 40, 12)];
    const svg = svgPlot(rows, 'caption <x>');
    expect(svg.match(/<polyline/g)).toHaveLength(8);
    expect(svg).toContain('caption &lt;x>');
    expect(table(rows, 'vm1').split('\n')).toHaveLength(4);
  });
});
