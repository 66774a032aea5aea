// Gate for roles without a health check (workers): the container is still running, and has not
// restarted, after a short settle period.
import type { Gate, GateOptions, GateResult, GateTarget } from './gate.js';
import { watchContainer, type ContainerStateLike, type Verdict, type WatchFacts } from './container-watch.js';
import { logsOrNothing } from './docker-health.js';

export interface RunningOptions {
  /** How long the container must stay up. */
  settleMs: number;
  pollIntervalMs?: number;
  logLines?: number;
}

export interface RunningBaseline {
  restartCount: number;
  startedAt?: string;
}

/** Pure: one inspect, against the first one seen, after `elapsedMs` → verdict. */
export function runningVerdict(info: ContainerStateLike, baseline: RunningBaseline, facts: Pick<WatchFacts, 'diedWithExitCode' | 'elapsedMs'>, settleMs: number): Verdict {
  const state = info.State ?? {};
  if (facts.diedWithExitCode !== undefined || state.Running === false || state.Restarting) {
    const exitCode = facts.diedWithExitCode ?? state.ExitCode;
    return { done: true, passed: false, exitCode, message: `container exited with code ${exitCode ?? 'unknown'}${state.OOMKilled ? ' (out of memory)' : ''} within ${settleMs} ms of starting` };
  }
  if ((info.RestartCount ?? 0) > baseline.restartCount || (baseline.startedAt && state.StartedAt && state.StartedAt !== baseline.startedAt)) {
    return { done: true, passed: false, message: 'container restarted while settling' };
  }
  if (facts.elapsedMs >= settleMs) return { done: true, passed: true, message: `running for ${settleMs} ms` };
  return { done: false };
}

export function runningGate(options: RunningOptions): Gate {
  return {
    name: 'running',
    async check(target: GateTarget, opts: GateOptions = {}): Promise<GateResult> {
      let baseline: RunningBaseline | undefined;
      const outcome = await watchContainer(
        target.host,
        target.container,
        (info, facts) => {
          baseline ??= { restartCount: info.RestartCount ?? 0, startedAt: info.State?.StartedAt };
          return runningVerdict(info, baseline, facts, options.settleMs);
        },
        {
          // The settle period is the whole point; the extra margin only absorbs a slow inspect.
          timeoutMs: options.settleMs + 10_000,
          pollIntervalMs: options.pollIntervalMs ?? Math.max(100, Math.min(1000, options.settleMs / 4)),
          wakeAtMs: [options.settleMs],
          signal: opts.signal,
        },
      );
      const details = outcome.passed ? [] : await logsOrNothing(target, options.logLines ?? 20);
      return { gate: 'running', passed: outcome.passed, message: outcome.message, details, durationMs: outcome.durationMs };
    },
  };
}
