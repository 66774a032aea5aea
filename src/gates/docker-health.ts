// Gate: the image's own Docker HEALTHCHECK. Waits for `healthy`, driven by health_status events;
// fails at once when the container exits (exit code + last log lines) or Docker declares it
// unhealthy (Docker has already applied the check's retries by then).
import { containerLogsTail } from '../app/container.js';
import type { Gate, GateOptions, GateResult, GateTarget } from './gate.js';
import { watchContainer, type ContainerStateLike, type Verdict, type WatchFacts } from './container-watch.js';

export interface DockerHealthOptions {
  timeoutMs: number;
  pollIntervalMs?: number;
  /** Log lines to attach on failure. */
  logLines?: number;
}

export function hasDockerHealthcheck(info: ContainerStateLike): boolean {
  if (info.State?.Health) return true;
  const test = info.Config?.Healthcheck?.Test;
  return !!test && test.length > 0 && test[0] !== 'NONE';
}

/** Pure: one inspect (plus what the events said) → verdict. */
export function dockerHealthVerdict(info: ContainerStateLike, facts: Pick<WatchFacts, 'diedWithExitCode'>): Verdict {
  const state = info.State ?? {};
  if (facts.diedWithExitCode !== undefined || state.Restarting || (state.Running === false && state.Status !== 'created')) {
    const exitCode = facts.diedWithExitCode ?? state.ExitCode;
    const oom = state.OOMKilled ? ' (out of memory)' : '';
    return { done: true, passed: false, exitCode, message: `container exited with code ${exitCode ?? 'unknown'}${oom} before it was healthy` };
  }
  if (!hasDockerHealthcheck(info)) return { done: true, passed: true, message: 'no HEALTHCHECK in the image' };
  const status = state.Health?.Status;
  if (status === 'healthy') return { done: true, passed: true, message: 'healthy' };
  if (status === 'unhealthy') return { done: true, passed: false, message: `unhealthy after ${state.Health?.FailingStreak ?? '?'} failed checks` };
  return { done: false };
}

/** The health probe's own recent output, newest last: why Docker thinks it is unhealthy. */
export function healthProbeLines(info: ContainerStateLike, count = 3): string[] {
  const log = info.State?.Health?.Log ?? [];
  return log
    .slice(-count)
    .map((entry) => `health check exit ${entry.ExitCode ?? '?'}: ${(entry.Output ?? '').trim().split('\n').slice(-2).join(' | ')}`);
}

export function dockerHealthGate(options: DockerHealthOptions): Gate {
  return {
    name: 'docker-health',
    async check(target: GateTarget, opts: GateOptions = {}): Promise<GateResult> {
      const outcome = await watchContainer(target.host, target.container, (info, facts) => dockerHealthVerdict(info, facts), {
        timeoutMs: options.timeoutMs,
        pollIntervalMs: options.pollIntervalMs ?? 1000,
        signal: opts.signal,
      });
      const details: string[] = [];
      if (!outcome.passed) {
        if (outcome.last) details.push(...healthProbeLines(outcome.last));
        details.push(...(await logsOrNothing(target, options.logLines ?? 20)));
      }
      const message = outcome.message.startsWith('still not ready') ? `not healthy within ${options.timeoutMs} ms (status ${outcome.last?.State?.Health?.Status ?? 'unknown'})` : outcome.message;
      return { gate: 'docker-health', passed: outcome.passed, message, details, durationMs: outcome.durationMs };
    },
  };
}

/** Failure evidence must not hide the failure: a logs error yields no lines rather than a throw. */
export async function logsOrNothing(target: GateTarget, lines: number): Promise<string[]> {
  try {
    return await containerLogsTail(target.host, target.container, lines);
  } catch {
    return [];
  }
}
