// Pure: bench/scale's measurements as a Markdown table, its goals checked, and an SVG plot of
// cost against host count. Nothing here measures; every number comes from run.ts's run.
import type { HostStats } from '../../src/hosts/host.js';

export interface DeployCost {
  timeToLiveMs: number;
  totalMs: number;
  /** Per host, as that host's connection counted them. */
  stats: Record<string, HostStats>;
}

export interface GangwayCost extends DeployCost {
  /** The CLI process, spawn to exit, as the runner saw it. */
  wallMs: number;
  /** First to last event: the deploy's own work, without Node's start-up and module loading. */
  ownMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  maxRssKb: number;
}

export interface BaselineCost extends DeployCost {
  /** The same deploy's total counted from its first connection, without its process's start-up. */
  inProcessTotalMs: number;
}

export interface SizeResult {
  hosts: number;
  gangway: GangwayCost;
  baseline: BaselineCost;
  /** /proc/loadavg (1, 5, 15 min) before gangway's deploy, after it, after the baseline. */
  load: [string, string, string];
  /** gangway total / baseline total of each run this row is the median of. */
  ratios?: number[];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function medianStats(runs: Array<Record<string, HostStats>>): Record<string, HostStats> {
  const hosts = Object.keys(runs[0] ?? {});
  return Object.fromEntries(hosts.map((h) => {
    const kinds = Object.keys(runs[0]![h]!) as Array<keyof HostStats>;
    return [h, Object.fromEntries(kinds.map((k) => [k, median(runs.map((r) => r[h]?.[k] ?? 0))])) as unknown as HostStats];
  }));
}

/** Pure: the runs of one size as one row, each number the median of its runs; the last run's load. */
export function medianRow(runs: SizeResult[]): SizeResult {
  const g = <K extends keyof GangwayCost>(k: K) => median(runs.map((r) => r.gangway[k] as number));
  const b = <K extends keyof BaselineCost>(k: K) => median(runs.map((r) => r.baseline[k] as number));
  return {
    hosts: runs[0]!.hosts,
    gangway: { wallMs: g('wallMs'), ownMs: g('ownMs'), timeToLiveMs: g('timeToLiveMs'), totalMs: g('totalMs'), cpuUserMs: g('cpuUserMs'), cpuSystemMs: g('cpuSystemMs'), maxRssKb: g('maxRssKb'), stats: medianStats(runs.map((r) => r.gangway.stats)) },
    baseline: { timeToLiveMs: b('timeToLiveMs'), totalMs: b('totalMs'), inProcessTotalMs: b('inProcessTotalMs'), stats: medianStats(runs.map((r) => r.baseline.stats)) },
    load: runs[runs.length - 1]!.load,
    ratios: runs.map((r) => r.gangway.totalMs / r.baseline.totalMs),
  };
}

/** One SSH round trip per handshake, command channel, docker stream opened, Engine API request and forward. */
export const roundTrips = (s: HostStats): number => s.connections + s.execChannels + s.dockerStreams + s.dockerRequests + s.forwards;

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
export const roundTripsPerHost = (c: DeployCost): number => mean(Object.values(c.stats).map(roundTrips));
/** The hosts other than the lock holder (the first web host), which do the same work at every size. */
export const roundTripsPerOtherHost = (c: DeployCost, primary: string): number | undefined => {
  const others = Object.entries(c.stats).filter(([h]) => h !== primary).map(([, s]) => roundTrips(s));
  return others.length ? mean(others) : undefined;
};
export const cpuMs = (g: GangwayCost): number => g.cpuUserMs + g.cpuSystemMs;

const s1 = (ms: number) => (ms / 1000).toFixed(1);
const x2 = (r: number) => `${r.toFixed(2)}x`;

/** Per added host between consecutive sizes: (cost(N2) - cost(N1)) / (N2 - N1). */
export function marginal(rows: SizeResult[], cost: (r: SizeResult) => number): Array<{ from: number; to: number; perHost: number }> {
  const out: Array<{ from: number; to: number; perHost: number }> = [];
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1]!;
    const b = rows[i]!;
    out.push({ from: a.hosts, to: b.hosts, perHost: (cost(b) - cost(a)) / (b.hosts - a.hosts) });
  }
  return out;
}

/**
 * The least-squares line through (hosts, cost), and how far the farthest size lies from it,
 * relative to the line's value there. A cost that grows by the same amount per added host lies on
 * a line whatever its fixed part; differences between neighbouring sizes (marginal) divide each
 * size's noise by a small host difference, the fit weighs every size at once.
 */
export function linearFit(points: Array<[number, number]>): { intercept: number; slope: number; worst: number } {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  const slope = sxx === 0 ? 0 : points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
  const intercept = my - slope * mx;
  const worst = Math.max(0, ...points.map(([x, y]) => Math.abs(y - (intercept + slope * x)) / Math.abs(intercept + slope * x)));
  return { intercept, slope, worst };
}

export function table(rows: SizeResult[], primary: string): string {
  const head = '| hosts | gangway live s | gangway total s | baseline live s | baseline total s | live ratio | total ratio (per run) | without process start-up: gangway first→last event s, baseline first connection→end s, ratio | CLI wall s | CLI CPU ms (user + sys) | CLI CPU ms per host | CLI peak RSS MB | round trips per host, gangway (mean; lock holder; others) | round trips per host, baseline | load avg before / after gangway / after baseline |';
  const lines = rows.map((r) => {
    const g = r.gangway;
    const b = r.baseline;
    const others = roundTripsPerOtherHost(g, primary);
    return `| ${r.hosts} | ${s1(g.timeToLiveMs)} | ${s1(g.totalMs)} | ${s1(b.timeToLiveMs)} | ${s1(b.totalMs)} | ${x2(g.timeToLiveMs / b.timeToLiveMs)} | **${x2(g.totalMs / b.totalMs)}**${r.ratios && r.ratios.length > 1 ? ` (${r.ratios.map((x) => x.toFixed(2)).join(', ')})` : ''} | ${s1(g.ownMs)}, ${s1(b.inProcessTotalMs)}, ${x2(g.ownMs / b.inProcessTotalMs)} | ${s1(g.wallMs)} | ${Math.round(cpuMs(g))} (${Math.round(g.cpuUserMs)} + ${Math.round(g.cpuSystemMs)}) | ${Math.round(cpuMs(g) / r.hosts)} | ${(g.maxRssKb / 1024).toFixed(0)} | ${roundTripsPerHost(g).toFixed(1)}; ${g.stats[primary] ? roundTrips(g.stats[primary]) : '-'}; ${others === undefined ? '-' : others.toFixed(1)} | ${roundTripsPerHost(b).toFixed(1)} | ${r.load.join(' / ')} |`;
  });
  return [head, `|${'---|'.repeat(15)}`, ...lines].join('\n');
}

/** Round trips per host by kind (mean over the hosts), gangway then baseline. */
export function breakdown(rows: SizeResult[]): string {
  const kinds: Array<keyof HostStats> = ['connections', 'execChannels', 'dockerStreams', 'dockerRequests', 'forwards'];
  const per = (c: DeployCost, k: keyof HostStats) => mean(Object.values(c.stats).map((s) => s[k])).toFixed(1);
  const lines = rows.flatMap((r) => [
    `| ${r.hosts} | gangway | ${kinds.map((k) => per(r.gangway, k)).join(' | ')} |`,
    `| ${r.hosts} | baseline | ${kinds.map((k) => per(r.baseline, k)).join(' | ')} |`,
  ]);
  return ['| hosts | who | SSH connections | exec channels | docker streams | Engine API requests | forwards (proxy runtime API) |', `|${'---|'.repeat(7)}`, ...lines].join('\n');
}

/** The issue's goals, each with the numbers it was judged on. */
export function goals(rows: SizeResult[], primary: string, tolerance = 0.1): string[] {
  if (rows.length === 0) return ['No size was measured: no goal can be judged.'];
  const last = rows[rows.length - 1]!;
  const ratio = last.gangway.totalMs / last.baseline.totalMs;
  const own = last.gangway.ownMs / last.baseline.inProcessTotalMs;
  const out = [
    `- gangway / baseline (total) at ${last.hosts} host${last.hosts === 1 ? '' : 's'}, the largest size measured: ${x2(ratio)} (goal at most 1.15x at 12 hosts): ${ratio <= 1.15 ? 'met' : 'NOT met'}${last.hosts < 12 ? ' (12 hosts not measured, see below)' : ''}; without either process's start-up (gangway's first to last event, the baseline's first connection to its end): ${x2(own)}, ${own <= 1.15 ? 'met' : 'NOT met'}.`,
  ];
  const spread = (xs: number[]) => (xs.length < 2 ? 0 : (Math.max(...xs) - Math.min(...xs)) / Math.min(...xs));
  const verdict = (xs: number[]) => (xs.length < 2 ? 'one size only: not judged' : spread(xs) <= tolerance ? `constant (spread ${(spread(xs) * 100).toFixed(0)} % ≤ ${tolerance * 100} %)` : `NOT constant (spread ${(spread(xs) * 100).toFixed(0)} % > ${tolerance * 100} %)`);
  const others = rows.map((r) => roundTripsPerOtherHost(r.gangway, primary)).filter((x): x is number => x !== undefined);
  out.push(`- round trips per host (hosts other than the lock holder ${primary}): ${others.map((x) => x.toFixed(1)).join(', ')}: ${verdict(others)}.`);
  const all = rows.map((r) => roundTripsPerHost(r.gangway));
  out.push(`- round trips per host (mean over all hosts, the lock holder's fixed extra spread over N): ${all.map((x) => x.toFixed(1)).join(', ')}: ${verdict(all)}.`);
  const m = marginal(rows, (r) => cpuMs(r.gangway));
  out.push(`- CLI CPU per added host (marginal, ms): ${m.map((x) => `${x.from}→${x.to}: ${Math.round(x.perHost)}`).join(', ') || '-'}: ${verdict(m.map((x) => x.perHost))}; CPU per host (total / N, the fixed start-up cost included): ${rows.map((r) => Math.round(cpuMs(r.gangway) / r.hosts)).join(', ')} ms.`);
  if (rows.length < 3) out.push(`- CLI CPU against host count, a straight line through every size: ${rows.length} size${rows.length === 1 ? '' : 's'} only: not judged.`);
  else {
    const fit = linearFit(rows.map((r) => [r.hosts, cpuMs(r.gangway)]));
    out.push(`- CLI CPU against host count, a straight line through every size (least squares): ${Math.round(fit.intercept)} ms + ${Math.round(fit.slope)} ms per host; the farthest size ${(fit.worst * 100).toFixed(0)} % from it: ${fit.worst <= tolerance ? `the same cost per added host (≤ ${tolerance * 100} %)` : `NOT a straight line (> ${tolerance * 100} %)`}.`);
  }
  return out;
}

export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: Array<[number, number]>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A line chart of `series` against host count, at (x, y) in a larger SVG. */
function panel(x0: number, y0: number, w: number, h: number, title: string, yUnit: string, series: Series[]): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xMax = Math.max(1, ...xs);
  // Headroom above the highest point for the legend.
  const yMax = niceCeil(1.3 * Math.max(1e-9, ...ys));
  const L = 56, R = 12, T = 28, B = 36;
  const px = (v: number) => x0 + L + (v / xMax) * (w - L - R);
  const py = (v: number) => y0 + h - B - (v / yMax) * (h - T - B);
  const parts = [`<text x="${x0 + w / 2}" y="${y0 + 16}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(`<line x1="${px(0)}" y1="${py(v)}" x2="${px(xMax)}" y2="${py(v)}" stroke="#ddd"/>`, `<text x="${px(0) - 4}" y="${py(v) + 4}" text-anchor="end">${+v.toPrecision(3)}</text>`);
  }
  for (const v of [...new Set(xs)].sort((a, b) => a - b)) parts.push(`<text x="${px(v)}" y="${y0 + h - B + 16}" text-anchor="middle">${v}</text>`);
  parts.push(`<text x="${x0 + L + (w - L - R) / 2}" y="${y0 + h - 4}" text-anchor="middle">hosts</text>`, `<text x="${x0 + 14}" y="${y0 + h / 2}" transform="rotate(-90 ${x0 + 14} ${y0 + h / 2})" text-anchor="middle">${esc(yUnit)}</text>`);
  series.forEach((s, i) => {
    const d = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,4"' : ''}/>`);
    for (const [x, y] of s.points) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    parts.push(`<text x="${x0 + L + 6}" y="${y0 + T + 12 + i * 14}" fill="${s.color}">${esc(s.name)}</text>`);
  });
  return parts.join('\n');
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Three panels side by side: wall times, CLI CPU, round trips per host. */
export function svgPlot(rows: SizeResult[], caption: string): string {
  const pts = (f: (r: SizeResult) => number): Array<[number, number]> => rows.map((r) => [r.hosts, f(r)]);
  const W = 360, H = 280;
  const panels = [
    panel(0, 0, W, H, 'deploy time', 'seconds', [
      { name: 'gangway total', color: '#c0392b', points: pts((r) => r.gangway.totalMs / 1000) },
      { name: 'gangway time to live', color: '#c0392b', dashed: true, points: pts((r) => r.gangway.timeToLiveMs / 1000) },
      { name: 'baseline total', color: '#2c3e50', points: pts((r) => r.baseline.totalMs / 1000) },
      { name: 'baseline time to live', color: '#2c3e50', dashed: true, points: pts((r) => r.baseline.timeToLiveMs / 1000) },
    ]),
    panel(W, 0, W, H, 'gangway CLI CPU (user + sys)', 'ms', [
      { name: 'total', color: '#8e44ad', points: pts((r) => cpuMs(r.gangway)) },
      { name: 'per host', color: '#8e44ad', dashed: true, points: pts((r) => cpuMs(r.gangway) / r.hosts) },
    ]),
    panel(2 * W, 0, W, H, 'SSH round trips per host', 'round trips', [
      { name: 'gangway (mean)', color: '#c0392b', points: pts((r) => roundTripsPerHost(r.gangway)) },
      { name: 'baseline (mean)', color: '#2c3e50', points: pts((r) => roundTripsPerHost(r.baseline)) },
    ]),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${3 * W}" height="${H + 24}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels,
    `<text x="8" y="${H + 16}" fill="#555">${esc(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
