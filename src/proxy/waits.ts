// Waiting on the proxy: until its runtime API answers, a server passes a real check, or a server
// has no sessions left. Each polls, and says what it last saw when it gives up.
import { sleep } from '../sleep.js';
import type Docker from 'dockerode';
import { combinedLogText } from '../docker/logs.js';
import { messageOf } from '../errors.js';
import { inspectOrUndefined } from './addresses.js';
import { findServer } from './live-servers.js';
import { explainingLines } from './log-excerpt.js';
import * as cmd from './runtime-commands.js';
import { describeCheck, isHealthy } from './runtime-parse.js';
import { RuntimeUnreachableError } from './runtime-api.js';
import { proxyError, runtimeApi, type ProxyTarget } from './target.js';
import type { LiveServer } from './types.js';

/** Resolves after `ms`, or at once when `signal` aborts (the project's one abortable sleep). */
export const pause = sleep;

/** The pid of the proxy's current worker, undefined when the runtime API does not answer. */
export async function workerPid(t: ProxyTarget): Promise<string | undefined> {
  try {
    return /^Pid: (\d+)$/m.exec(await runtimeApi(t).send(cmd.showInfo().line))?.[1];
  } catch {
    return undefined;
  }
}

export async function waitRuntimeReady(t: ProxyTarget, docker: Docker, containerId: string, timeoutMs = 20_000, previousPid?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const pid = await workerPid(t);
      if (pid !== undefined && pid !== previousPid) return;
      last = pid === undefined ? 'no answer' : `still the old worker (pid ${pid})`;
    } catch (err) {
      last = messageOf(err);
    }
    const info = await inspectOrUndefined(docker.getContainer(containerId));
    if (info && !info.State.Running && !info.State.Restarting) {
      last = `container exited with code ${info.State.ExitCode}`;
      break;
    }
    await pause(100);
  }
  const explaining = explainingLines(await logTail(docker, containerId));
  throw proxyError(t, `the proxy did not come up on ${t.host.name}: ${last}`, { details: explaining.length > 0 ? ['the proxy said:', ...explaining.map((l) => `  ${l}`)] : [] });
}

async function logTail(docker: Docker, containerId: string, lines = 200): Promise<string[]> {
  try {
    const buf = (await docker.getContainer(containerId).logs({ stdout: true, stderr: true, tail: lines })) as unknown as Buffer;
    return combinedLogText(buf).split('\n').filter((l) => l.trim() !== '');
  } catch {
    return [];
  }
}

/**
 * A candidate is checked every 100 ms while it is down (downinter, fastinter): polled as often,
 * the wait sees it up within a check of it going up, not up to two checks later.
 */
const HEALTH_POLL_MS = 100;

/**
 * Until `name` passed a real check and HAProxy counts it up; fails with the last check's result.
 * `onPassing` is called once, at the first reading whose last check passed (the server may
 * still be rising): work that waits for the app to answer may start then.
 */
export async function waitHealthy(t: ProxyTarget, name: string, timeoutMs: number, signal?: AbortSignal, onPassing?: () => void): Promise<LiveServer> {
  const deadline = Date.now() + timeoutMs;
  let passing = false;
  let last: LiveServer | undefined;
  // The newest reading that carried an HTTP status: a candidate is checked every 100 ms while
  // down, so the last reading is often one taken while the next check runs, without it.
  let withCode: LiveServer | undefined;
  for (;;) {
    // A caller that stopped waiting (the gate decided on another check) stops the polls: one more
    // after the command closed its connections would open a new one and keep the CLI from exiting.
    if (signal?.aborted) throw proxyError(t, `stopped waiting for ${name} on ${t.host.name}`);
    last = await findServer(t, name);
    if (!last) throw proxyError(t, `server ${name} is not in the proxy on ${t.host.name}`);
    if (last.checkCode !== undefined) withCode = last;
    if (!passing && last.checkStatus.startsWith('L7OK')) {
      passing = true;
      onPassing?.();
    }
    // A reading taken while the next check runs has no code yet (see parseStat); one more poll
    // gives the settled one, so callers see the 200 that passed.
    if (isHealthy(last) && (last.checkCode !== undefined || Date.now() >= deadline)) return last;
    if (Date.now() >= deadline) break;
    await pause(Math.min(t.pollMs ?? HEALTH_POLL_MS, Math.max(0, deadline - Date.now())), signal);
  }
  throw proxyError(t, `${name} is not healthy on ${t.host.name} after ${timeoutMs} ms: ${describeCheck(last.checkCode === undefined && withCode?.checkStatus === last.checkStatus ? { ...last, checkCode: withCode.checkCode! } : last)}`, {
    hint: `the proxy checks GET ${t.healthcheck.path} on port ${last.port} and expects 200`,
  });
}

export interface DrainResult {
  drained: boolean;
  /** Sessions still open when the wait ended. */
  sessions: number;
  waitedMs: number;
}

/** Until the server has zero sessions, or the timeout; not an error either way (drain_timeout). */
export async function waitDrained(t: ProxyTarget, name: string, timeoutMs: number): Promise<DrainResult> {
  const started = Date.now();
  for (;;) {
    const s = await findServer(t, name);
    const sessions = s?.sessions ?? 0;
    if (sessions === 0) return { drained: true, sessions: 0, waitedMs: Date.now() - started };
    if (Date.now() - started >= timeoutMs) {
      t.events?.log(`${name} still has ${sessions} open session${sessions === 1 ? '' : 's'} after drain_timeout (${timeoutMs} ms): stopping it cuts ${sessions === 1 ? 'it' : 'them'}`, { level: 'warn', host: t.host.name, step: 'drain' });
      return { drained: false, sessions, waitedMs: Date.now() - started };
    }
    await pause(t.pollMs ?? 200);
  }
}

/**
 * Runs `work` again when the proxy's runtime API vanished under it (the proxy restarting: Docker's
 * restart policy, an operator), once the API answers again, for up to `backWithinMs` in all. The
 * work must be safe to repeat from the start (read, wait, remove). Any other error is the work's own.
 */
export async function afterProxyReturns<T>(t: ProxyTarget, work: () => Promise<T>, backWithinMs = 30_000): Promise<T> {
  const deadline = Date.now() + backWithinMs;
  for (;;) {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof RuntimeUnreachableError) || Date.now() >= deadline) throw err;
      t.events?.log(`the proxy on ${t.host.name} is not answering (${messageOf(err)}); waiting for it to come back`, { level: 'warn', host: t.host.name, step: 'proxy' });
      while (Date.now() < deadline && (await workerPid(t)) === undefined) await pause(200);
    }
  }
}
