// Waits on one container's state, driven by Docker events (health_status, die, restart...) with a
// slow poll as a fallback in case the event stream drops (an SSH channel closing, a proxy timing
// it out). The caller's `decide` turns each fresh inspect into a verdict or "keep waiting".
import type Docker from 'dockerode';
import { isNotFound } from '../docker/errors.js';
import type { Host } from '../hosts/host.js';

/** The part of GET /containers/{id}/json the gates read. */
export interface ContainerStateLike {
  Id?: string;
  Name?: string;
  RestartCount?: number;
  State?: {
    Status?: string;
    Running?: boolean;
    Restarting?: boolean;
    ExitCode?: number;
    OOMKilled?: boolean;
    Error?: string;
    StartedAt?: string;
    Health?: {
      Status?: string;
      FailingStreak?: number;
      Log?: { ExitCode?: number; Output?: string; Start?: string; End?: string }[];
    };
  };
  Config?: { Healthcheck?: { Test?: string[]; Timeout?: number }; Shell?: string[] };
}

/** What the events told us since the watch began. */
export interface WatchFacts {
  elapsedMs: number;
  /** Set once a `die` event arrived: the exit code Docker reported. */
  diedWithExitCode?: number;
  timedOut: boolean;
}

export type Verdict = { done: false } | { done: true; passed: boolean; message: string; exitCode?: number };

export interface WatchOptions {
  timeoutMs: number;
  /** Fallback poll when no event arrives. */
  pollIntervalMs?: number;
  /** Extra moments (since the start) at which to re-inspect, e.g. the end of a settle period. */
  wakeAtMs?: number[];
  signal?: AbortSignal;
  /** Given a function that inspects again now: for callers that learn something the events do not carry. */
  onWake?: (wake: () => void) => void;
}

export interface WatchOutcome {
  passed: boolean;
  message: string;
  exitCode?: number;
  last?: ContainerStateLike;
  durationMs: number;
}

const WATCHED_EVENTS = ['health_status', 'die', 'restart', 'start', 'oom', 'kill', 'destroy'];

export async function watchContainer(
  host: Host,
  container: string,
  decide: (info: ContainerStateLike, facts: WatchFacts) => Verdict,
  opts: WatchOptions,
): Promise<WatchOutcome> {
  const docker = await host.docker();
  const startedAt = Date.now();
  const facts = (timedOut: boolean): WatchFacts => ({ elapsedMs: Date.now() - startedAt, diedWithExitCode, timedOut });
  let diedWithExitCode: number | undefined;
  let events: NodeJS.ReadableStream | undefined;
  let last: ContainerStateLike | undefined;
  const timers: NodeJS.Timeout[] = [];

  return await new Promise<WatchOutcome>((resolve) => {
    let settled = false;
    let inspecting = false;
    let again = false;
    let finalAfterInspect = false;
    let poll: NodeJS.Timeout | undefined;

    const finish = (outcome: Omit<WatchOutcome, 'durationMs' | 'last'>) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      clearInterval(poll);
      opts.signal?.removeEventListener('abort', onAbort);
      (events as unknown as { destroy?: () => void } | undefined)?.destroy?.();
      resolve({ ...outcome, last, durationMs: Date.now() - startedAt });
    };

    // One inspect at a time; triggers that arrive meanwhile collapse into one more.
    const check = async (): Promise<void> => {
      if (settled) return;
      if (inspecting) { again = true; return; }
      inspecting = true;
      try {
        last = (await docker.getContainer(container).inspect()) as ContainerStateLike;
        const timedOut = finalAfterInspect;
        const verdict = decide(last, facts(timedOut));
        if (verdict.done) finish(verdict);
        else if (timedOut) finish({ passed: false, message: `still not ready after ${opts.timeoutMs} ms` });
      } catch (err) {
        if (isNotFound(err)) finish({ passed: false, message: `container ${container} disappeared` });
        else if (finalAfterInspect) finish({ passed: false, message: `could not inspect ${container}: ${(err as Error).message}` });
      } finally {
        inspecting = false;
        if (again && !settled) { again = false; void check(); }
      }
    };

    const onAbort = () => finish({ passed: false, message: 'aborted' });
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort);

    poll = setInterval(() => void check(), opts.pollIntervalMs ?? 1000);
    timers.push(setTimeout(() => { finalAfterInspect = true; void check(); }, opts.timeoutMs));
    for (const at of opts.wakeAtMs ?? []) timers.push(setTimeout(() => void check(), at));
    opts.onWake?.(() => void check());

    // Subscribe first, then inspect: a change between the two is seen either way.
    subscribe(docker, container)
      .then((stream) => {
        if (!stream) return;
        if (settled) { (stream as unknown as { destroy?: () => void }).destroy?.(); return; }
        events = stream;
        let pending = '';
        stream.on('data', (chunk: Buffer | string) => {
          pending += chunk.toString();
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) {
            const code = dieExitCode(line);
            if (code !== undefined) diedWithExitCode = code;
          }
          void check();
        });
        stream.on('error', () => {});
      })
      .finally(() => void check());
  });
}

async function subscribe(docker: Docker, container: string): Promise<NodeJS.ReadableStream | undefined> {
  try {
    return await docker.getEvents({ filters: { type: ['container'], container: [container], event: WATCHED_EVENTS } });
  } catch {
    return undefined; // polling alone still works
  }
}

/** The exit code of a `die` event line, if the line is one. */
export function dieExitCode(line: string): number | undefined {
  try {
    const ev = JSON.parse(line) as { Action?: string; status?: string; Actor?: { Attributes?: Record<string, string> } };
    if ((ev.Action ?? ev.status) !== 'die') return undefined;
    const code = Number(ev.Actor?.Attributes?.exitCode);
    return Number.isFinite(code) ? code : -1;
  } catch {
    return undefined;
  }
}
