// Runs a wait under its timeout, and fails it the moment the container exits: either way the
// error carries the container's last 100 log lines, since that is what explains the failure.
import { GangwayError, messageOf } from '../../errors.js';
import type { WaitStrategy, WaitTarget } from './wait-strategy.js';

export const LOG_LINES_IN_ERRORS = 100;
// After a `die` event the follow stream may still carry the last lines; wait this long at most.
const LOG_DRAIN_CAP_MS = 1_000;

export interface ExitInfo {
  exitCode: number;
}

export interface RunWaitTarget extends WaitTarget {
  /** Settles when the container stopped (from the engine's `die` event). */
  readonly exited: Promise<ExitInfo>;
}

export async function runWait(strategy: WaitStrategy, target: RunWaitTarget, timeoutMs = strategy.timeoutMs): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const startedAt = Date.now();
  const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
  // Lines written just before the exit may still satisfy the wait: let them arrive first.
  const exited = target.exited.then(async (info) => { await drainLogs(target); return { exit: info }; });
  try {
    const outcome = await Promise.race([
      strategy.waitUntilReady(target, controller.signal).then(() => 'ready' as const),
      timedOut,
      exited,
    ]);
    if (outcome === 'ready') return;
    controller.abort();
    if (outcome === 'timeout') {
      throw waitError(target, `container ${target.name} was not ready after ${timeoutMs} ms (waiting for ${strategy.description})`, 'raise the wait\'s timeoutMs, or check the logs below for why it never got there');
    }
    throw waitError(
      target,
      `container ${target.name} exited with code ${outcome.exit.exitCode} after ${Date.now() - startedAt} ms, before it was ready (waiting for ${strategy.description})`,
      'the logs below show why it stopped',
    );
  } catch (err) {
    if (withLogs.has(err as object)) throw err;
    // A wait that gave up because the container is already gone (no ports, no exec) reports the exit.
    const exit = await exitedAlready(target);
    if (exit) throw waitError(target, `container ${target.name} exited with code ${exit.exitCode} after ${Date.now() - startedAt} ms, before it was ready (waiting for ${strategy.description})`, 'the logs below show why it stopped');
    if (err instanceof GangwayError && err.step === 'testing.wait') throw waitError(target, err.message, err.hint);
    throw waitError(target, `container ${target.name}: wait for ${strategy.description} failed: ${messageOf(err)}`, undefined, err);
  } finally {
    controller.abort();
    clearTimeout(timer);
  }
}

async function exitedAlready(target: RunWaitTarget): Promise<ExitInfo | undefined> {
  try {
    const info = await target.inspect();
    if (info.State?.Running) return undefined;
    const exit = await target.exited;
    await drainLogs(target);
    return exit;
  } catch {
    return undefined;
  }
}

async function drainLogs(target: WaitTarget): Promise<void> {
  let cap: NodeJS.Timeout | undefined;
  await Promise.race([target.logs.ended, new Promise<void>((resolve) => { cap = setTimeout(resolve, LOG_DRAIN_CAP_MS); })]);
  clearTimeout(cap);
}

// Errors that already carry the logs, so they are not wrapped twice.
const withLogs = new WeakSet<object>();

function waitError(target: WaitTarget, message: string, hint?: string, cause?: unknown): GangwayError {
  const lines = target.logs.lastLines(LOG_LINES_IN_ERRORS);
  // The logs go into the message too: test runners print the message, not custom fields.
  const shown = lines.length
    ? `\n--- last ${lines.length} log lines of ${target.name} ---\n${lines.join('\n')}\n--- end of logs ---`
    : `\n(container ${target.name} wrote no log lines)`;
  const err = new GangwayError('operation', `${message}${shown}`, { step: 'testing.wait', hint, details: lines, cause });
  withLogs.add(err);
  return err;
}
