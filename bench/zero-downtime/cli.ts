// The real CLI as a child process (node bin/gangway.js --json), bounded in time, with its NDJSON
// events kept so the report can say where a deploy's time went.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GangwayEvent, StepEvent } from '../../src/events/events.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'gangway.js');

export interface CliRun {
  args: string[];
  code: number;
  wallMs: number;
  events: GangwayEvent[];
  /** Non-JSON output (stderr), for the report when something unexpected happened. */
  stderr: string;
}

/** `env` is added to the child's environment (e.g. GANGWAY_STATS_FILE); `bin`: another entry point. */
export function gangway(args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = {}, bin: string = BIN): Promise<CliRun> {
  const fullArgs = ['-c', join(cwd, 'gangway.yml'), '--json', ...args];
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [bin, ...fullArgs], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', HELLO_SECRET: 'bench-secret-value', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ args: fullArgs, code: code ?? 137, wallMs: performance.now() - started, events: parseEvents(stdout), stderr });
    });
  });
}

export function parseEvents(ndjson: string): GangwayEvent[] {
  const out: GangwayEvent[] = [];
  for (const line of ndjson.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as GangwayEvent);
    } catch {
      // A stray non-JSON line is not the bench's business.
    }
  }
  return out;
}

export interface StepSpan {
  step: string;
  host: string;
  role?: string;
  /** Relative to the first event of the run. */
  startMs: number;
  endMs: number;
  status: string;
}

/**
 * Pairs each step's start with its done/fail (per host and role) into spans on one timeline, so
 * the report can show the critical path rather than a sum of parallel durations.
 */
export function stepSpans(events: GangwayEvent[]): StepSpan[] {
  const t0 = events[0]?.ts ?? 0;
  const open = new Map<string, StepEvent>();
  const spans: StepSpan[] = [];
  for (const e of events) {
    if (e.type !== 'step') continue;
    const key = `${e.step}|${e.host ?? ''}|${e.role ?? ''}`;
    if (e.status === 'start') {
      open.set(key, e);
      continue;
    }
    const start = open.get(key);
    open.delete(key);
    const endMs = e.ts - t0;
    const startMs = start ? start.ts - t0 : e.durationMs !== undefined ? endMs - e.durationMs : endMs;
    spans.push({ step: e.step, host: e.host ?? '-', ...(e.role ? { role: e.role } : {}), startMs, endMs, status: e.status });
  }
  return spans.sort((a, b) => a.startMs - b.startMs);
}

/** Milliseconds from the first to the last event: the time gangway itself accounts for. */
export function eventSpanMs(events: GangwayEvent[]): number {
  if (events.length === 0) return 0;
  return events[events.length - 1]!.ts - events[0]!.ts;
}
