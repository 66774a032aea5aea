// Pure rendering of the bench's results as Markdown tables (printed, and kept in BENCHMARKS.md).
import type { BareStep } from '../scale/baseline.js';
import type { StepSpan } from './cli.js';
import { median } from '../scale/report.js';
import { emptyKindCounts, failedOf, percentile, type LoadCounts, type LoadResult } from './load.js';

export interface PhaseResult {
  phase: string;
  /** What ran, and how it ended (exit code, or "ok"). */
  outcome: string;
  /** Whether this phase is held to the 0-failure target. */
  gangway: boolean;
  opMs: number;
  load: LoadResult;
  /** Free text: what was served at the end, etc. */
  note?: string;
  /** The machine's load average (1, 5, 15 min) when the phase ended. */
  loadAvg?: string;
}

const s1 = (ms: number) => (ms / 1000).toFixed(1);
const s2 = (ms: number) => (ms / 1000).toFixed(2);

export function mergeCounts(result: LoadResult): LoadCounts {
  const all = [...result.byHost.values()];
  const merged: LoadCounts = {
    requests: 0, ok: 0, non2xx: 0, socketErrors: 0, badBody: 0,
    failureKinds: new Map(), servedVersions: new Map(), latenciesMs: [], sentAtMs: [], byKind: new Map(), durationMs: Math.max(0, ...all.map((c) => c.durationMs)),
  };
  for (const c of all) {
    merged.requests += c.requests;
    merged.ok += c.ok;
    merged.non2xx += c.non2xx;
    merged.socketErrors += c.socketErrors;
    merged.badBody += c.badBody;
    for (const [k, v] of c.failureKinds) merged.failureKinds.set(k, (merged.failureKinds.get(k) ?? 0) + v);
    for (const [k, v] of c.servedVersions) merged.servedVersions.set(k, (merged.servedVersions.get(k) ?? 0) + v);
    merged.latenciesMs.push(...c.latenciesMs);
    merged.sentAtMs.push(...c.sentAtMs);
    for (const [k, v] of c.byKind) {
      const m = merged.byKind.get(k) ?? emptyKindCounts();
      merged.byKind.set(k, { requests: m.requests + v.requests, failed: m.failed + v.failed, latenciesMs: [...m.latenciesMs, ...v.latenciesMs], resumed: m.resumed + v.resumed });
    }
  }
  return merged;
}

/** The lowest per-host rate sent: the target is a floor per host, not an average. */
export function minRatePerHost(result: LoadResult): number {
  return minPerHost(result, (c) => c.requests);
}

/** The lowest per-host rate of requests answered 2xx with the right body. */
export function minServedPerHost(result: LoadResult): number {
  return minPerHost(result, (c) => c.ok);
}

function minPerHost(result: LoadResult, count: (c: LoadCounts) => number): number {
  const rates = [...result.byHost.values()].map((c) => (c.durationMs > 0 ? (count(c) * 1000) / c.durationMs : 0));
  return rates.length ? Math.min(...rates) : 0;
}

const versions = (m: Map<string, number>) => [...m.entries()].sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true })).map(([v, n]) => `${v}: ${n}`).join(', ');

export function phaseTable(phases: PhaseResult[]): string {
  const lines = [
    '| phase | outcome | operation s | load s | requests | req/s sent per host (min) | req/s served per host (min) | non-2xx | socket errors | bad body | **failed** | p99 ms | max ms | GET / answered by | load avg at end |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const p of phases) {
    const c = mergeCounts(p.load);
    const failed = failedOf(c);
    const mark = p.gangway ? (failed === 0 ? ' ✓' : ' ✗') : '';
    lines.push(`| ${p.phase} | ${p.outcome} | ${s1(p.opMs)} | ${s1(c.durationMs)} | ${c.requests} | ${minRatePerHost(p.load).toFixed(0)} | ${minServedPerHost(p.load).toFixed(0)} | ${c.non2xx} | ${c.socketErrors} | ${c.badBody} | **${failed}**${mark} | ${percentile(c.latenciesMs, 99).toFixed(0)} | ${Math.max(0, ...c.latenciesMs).toFixed(0)} | ${versions(c.servedVersions)} | ${p.loadAvg ?? '-'} |`);
  }
  return lines.join('\n');
}

/** One line per phase with failures: what they were and when (seconds into the load). */
export function failureNotes(phases: PhaseResult[], leadMs: number): string[] {
  const out: string[] = [];
  for (const p of phases) {
    for (const [host, c] of p.load.byHost) {
      if (failedOf(c) === 0) continue;
      const kinds = [...c.failureKinds.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}× ${k}`).join(', ');
      out.push(`- ${p.phase}, ${host}: ${kinds}; from ${s2((c.firstFailureMs ?? 0) - leadMs)} s to ${s2((c.lastFailureMs ?? 0) - leadMs)} s after the operation started`);
    }
    const shortfall = [...p.load.shortfallByHost.entries()].filter(([, n]) => n > 0);
    if (shortfall.length) out.push(`- ${p.phase}: requests due but held back by the in-flight cap: ${shortfall.map(([h, n]) => `${h} ${n}`).join(', ')}`);
    if (p.note) out.push(`- ${p.phase}: ${p.note}`);
  }
  return out;
}

/** A command's two figures, from its start: every host switched (null: never), and the end. */
export interface TimeRow {
  what: string;
  liveMs: number | null;
  totalMs: number;
  /** The machine's load average when it ended. */
  loadAvg?: string;
}

/** One round of the timed comparison: gangway's commands, then the bare baseline, under the same load. */
export interface TimesRound {
  gangway: TimeRow[];
  bare: TimeRow;
}

const ratioOf = (ms: number | null, base: number | null): number | null => (ms === null || base === null || base <= 0 ? null : ms / base);
const shown = (r: number | null) => (r === null ? '-' : `${r.toFixed(2)}x`);

/** Every round's commands beside that round's bare baseline (its last row): both figures and their ratios to it. */
export function timesTable(rounds: TimesRound[]): string {
  const line = (round: number, r: TimeRow, bare: TimeRow | null) =>
    `| ${round} | ${r.what} | ${r.liveMs === null ? 'never (failed)' : s2(r.liveMs)} | ${s2(r.totalMs)} | ${bare ? shown(ratioOf(r.liveMs, bare.liveMs)) : '1.00x'} | ${bare ? shown(ratioOf(r.totalMs, bare.totalMs)) : '1.00x'} | ${r.loadAvg ?? '-'} |`;
  return [
    '| round | what | time to live s | total s | live vs bare | total vs bare | load avg at end |',
    '|---|---|---|---|---|---|---|',
    ...rounds.flatMap((round, i) => [...round.gangway.map((r) => line(i + 1, r, round.bare)), line(i + 1, round.bare, null)]),
  ].join('\n');
}

/** Each gangway command's ratios to its own round's baseline, by the command's place in the round. */
export function ratioMedians(rounds: TimesRound[]): Array<{ what: string; live: number | null; total: number; lives: Array<number | null>; totals: number[] }> {
  return (rounds[0]?.gangway ?? []).map((first, i) => {
    const lives = rounds.map((r) => ratioOf(r.gangway[i]!.liveMs, r.bare.liveMs));
    const totals = rounds.map((r) => ratioOf(r.gangway[i]!.totalMs, r.bare.totalMs) ?? Number.NaN);
    const known = lives.filter((x): x is number => x !== null);
    return { what: first.what, live: known.length === lives.length ? median(known) : null, total: median(totals), lives, totals };
  });
}

export function ratioMediansTable(rounds: TimesRound[]): string {
  const list = (xs: Array<number | null>) => xs.map(shown).join(', ');
  return [
    `| what | live vs bare, median of ${rounds.length} | total vs bare, median of ${rounds.length} | live by round | total by round |`,
    '|---|---|---|---|---|',
    ...ratioMedians(rounds).map((m) => `| ${m.what} | ${shown(m.live)} | ${shown(m.total)} | ${list(m.lives)} | ${list(m.totals)} |`),
  ].join('\n');
}

/**
 * Where a deploy's time went: each step's first start and last end on the run's timeline, and its
 * longest single duration (steps on several hosts run in parallel).
 */
export function stepTable(spans: StepSpan[]): string {
  const byStep = new Map<string, StepSpan[]>();
  for (const s of spans) byStep.set(s.step, [...(byStep.get(s.step) ?? []), s]);
  const rows = [...byStep.entries()].map(([step, list]) => ({
    step,
    hosts: [...new Set(list.map((s) => s.host))].join(' '),
    first: Math.min(...list.map((s) => s.startMs)),
    last: Math.max(...list.map((s) => s.endMs)),
    longest: Math.max(...list.map((s) => s.endMs - s.startMs)),
  })).sort((a, b) => a.first - b.first);
  return [
    '| step | hosts | starts at s | ends at s | longest s |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.step} | ${r.hosts} | ${s2(r.first)} | ${s2(r.last)} | ${s2(r.longest)} |`),
  ].join('\n');
}

export interface NaiveRow { host: string; stopMs: number; startMs: number; untilServedMs: number; replaced: string }

export function naiveTable(rows: NaiveRow[]): string {
  return [
    '| host | docker stop s | start + re-point s | stop → new version served s |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.host} | ${s2(r.stopMs)} | ${s2(r.startMs)} | ${s2(r.untilServedMs)} |`),
  ].join('\n');
}

export interface DirectRow { host: string; how: string; replaceMs: number; untilServedMs: number }

export function directTable(rows: DirectRow[]): string {
  return [
    '| baseline | host | replace s | start of the replace → new version served s |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.how} | ${r.host} | ${s2(r.replaceMs)} | ${s2(r.untilServedMs)} |`),
  ].join('\n');
}

/** The steps both do, in order: gangway's step names, which the bare baseline marks too. */
const SHARED_STEPS = ['connect', 'pull', 'start', 'health', 'uptests', 'switch', 'drain', 'stop'];

/**
 * When each shared step ended on each host, gangway beside the bare baseline: gangway's from its
 * first event, the baseline's from just before its first connection (both after their process
 * start-up). Where the two part is where gangway spends what the baseline does not.
 */
export function stepEndsTable(gangway: StepSpan[], bare: BareStep[], hosts: string[]): string {
  const gEnd = (step: string, host: string) => {
    const ends = gangway.filter((x) => x.step === step && (x.host === host || (step === 'connect' && x.host === '-'))).map((x) => x.endMs);
    return ends.length ? s2(Math.max(...ends)) : '-';
  };
  const bEnd = (step: string, host: string) => {
    const hit = bare.find((x) => x.step === step && x.host === host);
    return hit ? s2(hit.endMs) : '-';
  };
  return [
    `| step | ${hosts.map((h) => `gangway ${h} s`).join(' | ')} | ${hosts.map((h) => `bare ${h} s`).join(' | ')} |`,
    `|---|${hosts.map(() => '---|').join('')}${hosts.map(() => '---|').join('')}`,
    ...SHARED_STEPS.map((step) => `| ${step} | ${hosts.map((h) => gEnd(step, h)).join(' | ')} | ${hosts.map((h) => bEnd(step, h)).join(' | ')} |`),
  ].join('\n');
}
