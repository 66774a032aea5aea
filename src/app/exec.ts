// Runs `gangway exec`'s command on one host: in a throwaway container built by exec-plan.ts, or
// in the running container (--reuse). The caller hands local streams; with a PTY the output is
// one raw stream, without one stdout and stderr are demultiplexed.
import type { Duplex, Readable, Writable } from 'node:stream';
import type Docker from 'dockerode';
import { messageOf, operationError } from '../errors.js';
import type { Host } from '../hosts/host.js';
import { within } from '../sleep.js';
import { removeContainer } from './container.js';
import { createContainer } from '../docker/containers.js';
import { DETACH_KEYS, liveExecOptions, type ExecMode, type ExecSource, type TerminalSize } from './exec-plan.js';

export interface ExecStreams {
  mode: ExecMode;
  /** Piped to the program when mode.stdin; its end closes the program's stdin. */
  input?: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Called once the program runs, with what resizes its PTY (tty only). */
  onRunning?: (resize: (size: TerminalSize) => Promise<void>) => void;
  /** Ends the session: the program is killed (throwaway container) or hung up (--reuse). */
  signal?: AbortSignal;
}

/** How long to wait for the last output after the program's exit is known. */
const OUTPUT_GRACE_MS = 2000;

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Wires the attached stream to the local streams; `ended` settles when it closes (the program
 * ended, or the connection went). Input stops flowing to it at detach, so a terminal's stdin can
 * be released.
 */
function pipeSession(docker: Docker, stream: Duplex, io: ExecStreams): { ended: Promise<void>; detach(): void } {
  if (io.mode.tty) stream.on('data', (chunk: Buffer) => io.stdout.write(chunk));
  else docker.modem.demuxStream(stream, io.stdout, io.stderr);
  const input = io.mode.stdin ? io.input : undefined;
  // pipe() half-closes the stream when input ends: the engine then closes the program's stdin.
  input?.pipe(stream);
  const ended = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  return {
    ended,
    detach: () => {
      input?.unpipe(stream);
      stream.destroy();
    },
  };
}

/** Resizes, swallowing the failure of a program that has just ended (a race, not an error). */
const resizer = (resize: (size: TerminalSize) => Promise<unknown>) => async (size: TerminalSize) => {
  try {
    await resize(size);
  } catch {
    // The program is gone or not yet running: the next resize or the end settles it.
  }
};

const CLOSED = 'closed' as const;

/** What a session ended with: the program's exit code, or an abort (the caller knows which signal). */
export type ExecOutcome = { code: number } | { aborted: true };

const abortedBy = (signal: AbortSignal | undefined): Promise<{ aborted: true }> =>
  new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve({ aborted: true });
    else signal.addEventListener('abort', () => resolve({ aborted: true }), { once: true });
  });

/**
 * The command in a new container created from `options` (exec-plan.ts). The container is removed
 * afterwards on every path this process lives through (an abort removes it with its program).
 */
export async function runInNewContainer(host: Host, options: Docker.ContainerCreateOptions, io: ExecStreams): Promise<ExecOutcome> {
  const docker = await host.docker();
  const name = options.name!;
  let container: Docker.Container;
  try {
    container = await createContainer(docker, options);
  } catch (err) {
    throw operationError(`could not create ${name}: ${messageOf(err)}`, { host: host.name, step: 'exec', cause: err });
  }
  try {
    const stream = (await container.attach({
      stream: true,
      stdout: true,
      stderr: true,
      ...(io.mode.stdin ? { stdin: true, hijack: true, detachKeys: DETACH_KEYS } : {}),
    })) as Duplex;
    const session = pipeSession(docker, stream, io);
    try {
      // Asked before start: an AutoRemove container may be gone by the time a later wait arrives.
      const exited = (container.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>).then(
        (r) => ({ code: r.StatusCode }),
        (err: unknown) => {
          throw lostSession(host, name, err);
        },
      );
      exited.catch(() => {});
      await container.start();
      if (io.mode.tty) io.onRunning?.(resizer((size) => container.resize({ h: size.rows, w: size.columns })));
      const first = await Promise.race([exited, abortedBy(io.signal), session.ended.then(() => CLOSED)]);
      if (first === CLOSED) {
        // The stream closes as the program ends, a moment before the engine reports its exit; a
        // stream that closes on a running program was lost (connection, detach sequence). The
        // grace's timer is also what keeps a lost session's process alive until then (a request
        // on a dead connection may hold nothing).
        const late = await within(Promise.race([exited, abortedBy(io.signal)]), OUTPUT_GRACE_MS, CLOSED);
        if (late === CLOSED) throw lostSession(host, name);
        return late;
      }
      // The exit is known; the output's tail is still on its way.
      if ('code' in first) await within(session.ended, OUTPUT_GRACE_MS, undefined);
      return first;
    } finally {
      session.detach();
    }
  } finally {
    await removeContainer(host, name);
  }
}

/**
 * The command in the running container (docker exec). An abort hangs the program up: the engine
 * cannot stop an exec, and one with a PTY outlives its client, so its process gets SIGHUP on
 * the host, as a closed terminal would send (best effort: the SSH user must be allowed to).
 */
export async function runInLiveContainer(host: Host, container: string, cmd: string[], io: ExecStreams): Promise<ExecOutcome> {
  const docker = await host.docker();
  const exec = await docker.getContainer(container).exec(liveExecOptions(cmd, io.mode));
  const stream = (await exec.start({ hijack: true, stdin: io.mode.stdin, Tty: io.mode.tty })) as Duplex;
  const session = pipeSession(docker, stream, io);
  try {
    if (io.mode.tty) io.onRunning?.(resizer((size) => exec.resize({ h: size.rows, w: size.columns })));
    const outcome = await Promise.race([session.ended.then(() => CLOSED), abortedBy(io.signal)]);
    if (outcome !== CLOSED) {
      await hangUp(host, exec);
      return outcome;
    }
    const code = await execExitCode(exec).catch((err: unknown) => {
      throw lostSession(host, container, err);
    });
    if (code !== undefined) return { code };
    // The stream went while the program runs: nobody can type into it any more.
    await hangUp(host, exec);
    throw lostSession(host, container);
  } finally {
    session.detach();
  }
}

/** The exec's exit code, or undefined while it still runs after the grace (the engine may report it a moment after the stream closes). */
async function execExitCode(exec: Docker.Exec): Promise<number | undefined> {
  const deadline = Date.now() + OUTPUT_GRACE_MS;
  for (;;) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) return info.ExitCode;
    if (Date.now() > deadline) return info.Running ? undefined : (info.ExitCode ?? 1);
    await delay(50);
  }
}

/** Hangs up an exec's process on the host, as a closed terminal would (needs a user allowed to signal it). */
async function hangUp(host: Host, exec: Docker.Exec): Promise<void> {
  try {
    const info = await exec.inspect();
    if (info.Running && info.Pid > 0) await host.exec(`kill -HUP ${Math.trunc(info.Pid)}`, { timeoutMs: 5000 });
  } catch {
    // Best effort: docs/console.md says what is left and how to find it.
  }
}

/** The session's stream closed while its program ran: a dropped connection, most often. */
function lostSession(host: Host, container: string, cause?: unknown): Error {
  const why = cause === undefined ? '' : `: ${messageOf(cause)}`;
  return operationError(`the session with ${container} was lost before its program ended${why}`, { host: host.name, step: 'exec', cause });
}

/** What a throwaway exec container copies from the live one: its image id, env and binds. */
export async function execSourceOf(host: Host, container: string): Promise<ExecSource> {
  const info = await (await host.docker()).getContainer(container).inspect();
  return { name: container, image: info.Image, env: info.Config.Env ?? [], ...(info.HostConfig.Binds ? { binds: info.HostConfig.Binds } : {}) };
}
