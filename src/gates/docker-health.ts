// Gate: the image's own Docker HEALTHCHECK. Waits for `healthy`, driven by health_status events;
// fails at once when the container exits (exit code + last log lines) or Docker declares it
// unhealthy (Docker has already applied the check's retries by then).
import { containerLogsTail } from '../app/container.js';
import { execExitCode } from '../docker/exec.js';
import { sleep } from '../sleep.js';
import type { Gate, GateOptions, GateResult, GateTarget } from './gate.js';
import { watchContainer, type ContainerStateLike, type Verdict, type WatchFacts } from './container-watch.js';

export interface DockerHealthOptions {
  timeoutMs: number;
  pollIntervalMs?: number;
  /** Log lines to attach on failure. */
  logLines?: number;
  /**
   * Run the image's HEALTHCHECK command in the container (docker exec): once when `first`
   * settles, and, while it fails, again every OWN_CHECK_RETRY_MS once `retry` settles, until it
   * passes or Docker decides. The gate passes on the first exit 0, as Docker's `healthy` means one
   * passing check; Docker runs its first check only an interval after the start, and a proxied
   * container whose HTTP check passed need not wait for it. Docker's `unhealthy` and the
   * container's exit still fail the gate.
   */
  ownCheck?: OwnCheck;
}

/** When gangway runs the image's HEALTHCHECK itself (see DockerHealthOptions.ownCheck). */
export interface OwnCheck {
  first: Promise<unknown>;
  retry: Promise<unknown>;
  /** The container as the caller inspected it after its start (its HEALTHCHECK): one request less. */
  info?: ContainerStateLike;
}

/** Between two runs of the image's check by gangway while it fails (Docker's retries still count). */
const OWN_CHECK_RETRY_MS = 500;
/** Docker's default HEALTHCHECK --timeout. */
const DEFAULT_CHECK_TIMEOUT_MS = 30_000;

/**
 * Pure: the argv Docker runs for the container's HEALTHCHECK (CMD as given; CMD-SHELL through the
 * image's SHELL, /bin/sh -c by default), or undefined when it has none.
 */
export function healthcheckCommand(info: ContainerStateLike): string[] | undefined {
  const [kind, ...rest] = info.Config?.Healthcheck?.Test ?? [];
  if (kind === 'CMD' && rest.length > 0) return rest;
  if (kind === 'CMD-SHELL' && rest.length === 1) return [...(info.Config?.Shell?.length ? info.Config.Shell : ['/bin/sh', '-c']), rest[0]!];
  return undefined;
}

/** Pure: the check's own timeout (the engine reports nanoseconds; 0 means Docker's default). */
export function healthcheckTimeoutMs(info: ContainerStateLike): number {
  const ns = info.Config?.Healthcheck?.Timeout ?? 0;
  return ns > 0 ? Math.ceil(ns / 1e6) : DEFAULT_CHECK_TIMEOUT_MS;
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
      let ownPassed = false;
      const watchEnded = new AbortController();
      const outcome = await watchContainer(target.host, target.container, (info, facts) => {
        const verdict = dockerHealthVerdict(info, facts);
        if (!verdict.done && ownPassed) return { done: true, passed: true, message: 'healthy (its HEALTHCHECK passed, run by gangway)' };
        return verdict;
      }, {
        timeoutMs: options.timeoutMs,
        pollIntervalMs: options.pollIntervalMs ?? 1000,
        signal: opts.signal,
        onWake: (wake) => {
          if (!options.ownCheck) return;
          void runOwnChecks(target, options.ownCheck, watchEnded.signal, () => {
            ownPassed = true;
            wake();
          });
        },
      }).finally(() => watchEnded.abort());
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

/** The image's HEALTHCHECK by docker exec, until it passes once or `stop`; errors leave it to Docker. */
async function runOwnChecks(target: GateTarget, when: OwnCheck, stop: AbortSignal, passed: () => void): Promise<void> {
  try {
    await when.first;
    const container = (await target.host.docker()).getContainer(target.container);
    const info = when.info ?? ((await container.inspect()) as ContainerStateLike);
    const cmd = healthcheckCommand(info);
    if (!cmd) return;
    const timeoutMs = healthcheckTimeoutMs(info);
    for (let attempt = 0; !stop.aborted; attempt++) {
      if (attempt === 1) await Promise.race([when.retry, aborted(stop)]);
      else if (attempt > 1) await sleep(OWN_CHECK_RETRY_MS, stop);
      if (stop.aborted) return;
      const code = await execExitCode(container, cmd, timeoutMs).catch(() => undefined);
      if (stop.aborted) return;
      if (code === 0) return passed();
    }
  } catch {
    // Docker's own checks still decide.
  }
}

const aborted = (signal: AbortSignal): Promise<void> => new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
