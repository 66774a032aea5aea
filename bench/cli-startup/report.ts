// Pure parts of the start-up bench: what one deploy run measured, and the Markdown table and
// lines the bench prints and records.
import type { CliRun } from '../zero-downtime/cli.js';

export interface DeploySample {
  /** From just before the spawn to the `ts` of the first --json event (ms). */
  startupMs: number;
  wallMs: number;
  /** The child's own user + system CPU time (GANGWAY_STATS_FILE), ms. */
  cpuMs: number;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * One deploy run as a sample, or why it is not one: the bench's deploy must fail at connect
 * (exit 1, "cannot reach"); a config error or a success would time another path. The done event
 * that says so is itself an event, so a sample always has a first one.
 */
export function deploySample(run: CliRun, spawnedAtMs: number, stats: { cpuUserMs: number; cpuSystemMs: number } | undefined): DeploySample | string {
  const message = run.events.find((e) => e.type === 'done')?.message ?? '';
  if (run.code !== 1 || !/cannot reach/.test(message)) return `deploy exited ${run.code}, expected 1 at connect: ${message || run.stderr.slice(0, 400)}`;
  if (!stats) return 'deploy wrote no stats file (GANGWAY_STATS_FILE)';
  return { startupMs: run.events[0]!.ts - spawnedAtMs, wallMs: run.wallMs, cpuMs: stats.cpuUserMs + stats.cpuSystemMs };
}

export interface Row {
  name: string;
  samples: number[];
}

/** The table: median, range and the ratio to `baseMs` (node with nothing to do) of each row. */
export function startupTable(rows: Row[], baseMs: number, runs: number): string[] {
  return [
    `| what | median ms (${runs} runs) | min - max ms | vs node alone |`,
    '|---|---|---|---|',
    ...rows.map(({ name, samples }) => {
      const m = median(samples);
      return `| ${name} | ${m.toFixed(1)} | ${Math.min(...samples).toFixed(1)} - ${Math.max(...samples).toFixed(1)} | ${(m / baseMs).toFixed(2)} x |`;
    }),
  ];
}

/** Splits the deploy's start-up over node alone into the four libraries' share and gangway's own. */
export function startupSplit(m: { nodeMs: number; librariesMs: number; deployStartupMs: number }): string {
  const over = m.deployStartupMs - m.nodeMs;
  const libs = m.librariesMs - m.nodeMs;
  return `Deploy start-up, unbundled, over node alone: ${over.toFixed(1)} ms, of which importing dockerode, ssh2, zod and yaml alone accounts for ${libs.toFixed(1)} ms; the other ${(over - libs).toFixed(1)} ms are gangway's own modules, the other libraries on the deploy path and loading the config.`;
}

/** What running the bundle instead of tsc's output saves a deploy: medians of the same runs. */
export function bundleGain(m: { bundledStartupMs: number; unbundledStartupMs: number; bundledCpuMs: number; unbundledCpuMs: number }): string {
  const sooner = m.unbundledStartupMs - m.bundledStartupMs;
  const cpu = m.unbundledCpuMs - m.bundledCpuMs;
  return `Bundled, the deploy reaches its first event ${Math.abs(sooner).toFixed(1)} ms ${sooner >= 0 ? 'sooner' : 'later'} than unbundled and uses ${Math.abs(cpu).toFixed(1)} ms ${cpu >= 0 ? 'less' : 'more'} CPU (medians of the same runs).`;
}
