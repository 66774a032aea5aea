// One bench phase that runs the real CLI under load: the command, its exit code against the one
// expected, what was served afterwards, its events kept in a file, gangway's own timing. Shared
// by run.ts and shared.ts.
import { writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Events } from '../../src/events/events.js';
import { gangway, type CliRun } from './cli.js';
import type { LoadResult } from './load.js';
import type { PhaseResult } from './report.js';
import { benchMain, type BenchMain, type BenchSandbox } from './sandbox.js';

export function outcomeOf(run: CliRun, expected: number): string {
  const verdict = run.code === expected ? '' : ` (expected ${expected})`;
  return `exit ${run.code}${verdict}`;
}

export function failureSummary(run: CliRun): string | undefined {
  const done = run.events.find((e) => e.type === 'done');
  if (done && done.type === 'done') return done.message;
  return run.stderr.trim().split('\n').slice(-3).join(' ') || undefined;
}

/** The command's `timing` event: time to live (null: never live, a failed command) and total, from its start. */
export function timingOf(run: CliRun): { liveMs: number | null; totalMs: number } | undefined {
  const timing = run.events.find((e) => e.type === 'result' && e.kind === 'timing');
  if (timing?.type !== 'result') return undefined;
  const live = timing.data.timeToLiveMs;
  return { liveMs: live === null ? null : Number(live), totalMs: Number(timing.data.totalMs) };
}

export interface CliPhase {
  phase: string;
  project: string;
  args: string[];
  expectedCode: number;
  timeoutMs: number;
  /** Runs the command under the bench's load. */
  underLoad: <T>(during: () => Promise<T>) => Promise<{ result: T; load: LoadResult }>;
  /** Added to the CLI's environment (secrets such as a certificate). */
  env?: NodeJS.ProcessEnv;
  /** What was served once the command ended (a note for the report). */
  after: () => Promise<string>;
  say: (line: string) => void;
  loadAvg: () => string;
}

export async function cliPhase(p: CliPhase): Promise<{ result: PhaseResult; run: CliRun }> {
  p.say(`${p.phase}: gangway ${p.args.join(' ')} under load`);
  const { result: run, load } = await p.underLoad(() => gangway(p.args, p.project, p.timeoutMs, p.env));
  const after = await p.after();
  const eventsFile = join(tmpdir(), `gangway-bench-zd-${p.phase.split('.')[0]}-${Date.now()}.ndjson`);
  writeFileSync(eventsFile, run.events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  p.say(`${p.phase}: exit ${run.code} in ${(run.wallMs / 1000).toFixed(1)} s; its events: ${eventsFile}`);
  const timing = timingOf(run);
  const live = timing ? `${timing.liveMs === null ? 'never live' : `live after ${(timing.liveMs / 1000).toFixed(1)} s`}, done after ${(timing.totalMs / 1000).toFixed(1)} s (gangway's timing event)` : undefined;
  const note = [live, after, run.code !== p.expectedCode ? failureSummary(run) : undefined].filter(Boolean).join('; ');
  return { result: { phase: p.phase, outcome: `gangway ${p.args.join(' ')}: ${outcomeOf(run, p.expectedCode)}`, gangway: true, opMs: run.wallMs, load, note, loadAvg: p.loadAvg() }, run };
}

/** The machine and the sandbox, as every zero-downtime section states them. */
export function machineFacts(proxyLine: string, loadAvg: string): string {
  return `Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load average at the end ${loadAvg}; ` +
    `dockerd 20.10 with 3 Docker-in-Docker sandbox hosts (sshd + inner dockerd), HAProxy ${proxyLine} (Debian ${proxyLine === '2.6' ? '12' : '13'}) per web host, busybox httpd app.`;
}

/** benchMain with the sandbox's failed steps said as they happen and its start-up time measured. */
export function sandboxBenchMain(b: Omit<BenchMain, 'events' | 'phases'> & { phases: (bench: BenchSandbox, sandboxMs: number) => Promise<void> }): Promise<void> {
  const events = new Events();
  events.on((e) => { if (e.type === 'step' && e.status === 'fail') b.say(`sandbox: ${e.step} failed on ${e.host ?? '-'}: ${e.message ?? ''}`); });
  b.say(`sandbox "${b.shape?.id ?? 'bench'}" up (${b.shape?.hosts ?? 3} hosts, registry on an ephemeral loopback port)`);
  const t0 = performance.now();
  return benchMain({ ...b, events, phases: (bench) => b.phases(bench, performance.now() - t0) });
}

/**
 * The phases of a sandboxBenchMain that keep, for the report, the sandbox's start-up time and the
 * message of the error that stopped them (rethrown: benchMain prints, then fails).
 */
export function recordingPhases(out: { sandboxMs?: number; crashed?: string }, body: (bench: BenchSandbox) => Promise<void>): (bench: BenchSandbox, sandboxMs: number) => Promise<void> {
  return async (bench, sandboxMs) => {
    out.sandboxMs = sandboxMs;
    try {
      await body(bench);
    } catch (err) {
      out.crashed = err instanceof Error ? err.message : String(err);
      throw err;
    }
  };
}
