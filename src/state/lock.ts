// The deploy lock: one directory per deployment (service, or service@destination: production and
// staging deploy independently) on the primary host. `mkdir` is atomic, so exactly
// one of two racing deploys creates it; the details file inside says who holds it and why.
import { hostname, userInfo } from 'node:os';
import { randomBytes } from 'node:crypto';
import { GangwayError, operationError } from '../errors.js';
import type { ExecResult, Host } from '../hosts/host.js';
import { deploymentKey, describeDeployment, type Deployment } from './deployment.js';
import { GANGWAY_STATE_DIR, shellQuote, type ShellCommand } from './shell.js';

export const LOCK_DIR = `${GANGWAY_STATE_DIR}/locks`;
/** Exit status the acquire line uses for "someone else holds it" (any other non-zero is an error). */
export const LOCK_HELD_EXIT = 3;

/** The holder's deployment is part of the details, so the details alone name the lock's path. */
export interface LockDetails extends Deployment {
  service: string;
  destination?: string;
  /** user@hostname of the machine that ran gangway. */
  holder: string;
  pid: number;
  /** ISO time of acquisition. */
  time: string;
  version: string;
  message: string;
  /** Random token, so a release removes only the lock this run took. */
  id: string;
}

export function lockPath(d: Deployment): string {
  return `${LOCK_DIR}/${deploymentKey(d)}`;
}

export function newLockDetails(input: { deployment: Deployment; version: string; message?: string; holder?: string; pid?: number; now?: Date; id?: string }): LockDetails {
  return {
    service: input.deployment.service,
    ...(input.deployment.destination ? { destination: input.deployment.destination } : {}),
    holder: input.holder ?? `${safeUser()}@${hostname()}`,
    pid: input.pid ?? process.pid,
    time: (input.now ?? new Date()).toISOString(),
    version: input.version,
    message: input.message ?? '',
    id: input.id ?? randomBytes(8).toString('hex'),
  };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** mkdir the lock; on success write the details (stdin), else print the holder's and exit 3. */
export function acquireLockCommand(details: LockDetails): ShellCommand {
  const dir = shellQuote(lockPath(details));
  const file = shellQuote(`${lockPath(details)}/details.json`);
  return {
    command: `mkdir -p ${shellQuote(LOCK_DIR)} && if mkdir ${dir} 2>/dev/null; then cat > ${file}; else cat ${file} 2>/dev/null; exit ${LOCK_HELD_EXIT}; fi`,
    stdin: `${JSON.stringify(details)}\n`,
  };
}

/** Removes the lock; with `id`, only when it is still the one this run took (exit 3 otherwise). */
export function releaseLockCommand(d: Deployment, id?: string): ShellCommand {
  const dir = shellQuote(lockPath(d));
  if (id === undefined) return { command: `rm -rf ${dir}` };
  const file = shellQuote(`${lockPath(d)}/details.json`);
  return { command: `if [ ! -d ${dir} ]; then exit 0; elif grep -qF ${shellQuote(`"id":${JSON.stringify(id)}`)} ${file}; then rm -rf ${dir}; else cat ${file} 2>/dev/null; exit ${LOCK_HELD_EXIT}; fi` };
}

/** Prints `held` + the details, or `free`. */
export function lockStatusCommand(d: Deployment): ShellCommand {
  const dir = shellQuote(lockPath(d));
  return { command: `if [ -d ${dir} ]; then echo held; cat ${shellQuote(`${lockPath(d)}/details.json`)} 2>/dev/null; else echo free; fi` };
}

/** Pure: details JSON as printed by the lines above; undefined while a holder is still writing it. */
export function parseLockDetails(text: string): LockDetails | undefined {
  const json = text.trim();
  if (!json) return undefined;
  try {
    const d = JSON.parse(json) as Partial<LockDetails>;
    return {
      service: String(d.service ?? ''),
      ...(d.destination ? { destination: String(d.destination) } : {}),
      holder: String(d.holder ?? 'unknown'),
      pid: Number(d.pid ?? 0),
      time: String(d.time ?? ''),
      version: String(d.version ?? ''),
      message: String(d.message ?? ''),
      id: String(d.id ?? ''),
    };
  } catch {
    return undefined;
  }
}

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

/**
 * Is the holder's process alive? Only knowable when the lock was taken on this machine (same
 * hostname): a deploy killed with SIGKILL leaves its lock behind, and saying so spares the user
 * a guess before `gangway lock release`.
 */
export type HolderState = 'running' | 'not-running' | 'elsewhere';

export function holderState(details: LockDetails | undefined, isAlive: (pid: number) => boolean = pidAlive, thisHost: string = hostname()): HolderState {
  if (!details || details.pid <= 0) return 'elsewhere';
  const at = details.holder.lastIndexOf('@');
  const machine = at >= 0 ? details.holder.slice(at + 1) : '';
  if (machine !== thisHost) return 'elsewhere';
  return isAlive(details.pid) ? 'running' : 'not-running';
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pure: one line naming the holder, the age, the version, the message, and a dead holder. */
export function describeLockHolder(details: LockDetails | undefined, now: Date = new Date(), state: HolderState = 'elsewhere'): string {
  if (!details) return 'held (its details are still being written)';
  const age = details.time ? formatAge(now.getTime() - Date.parse(details.time)) : 'unknown';
  const dead = state === 'not-running' ? `; pid ${details.pid} is not running on this machine (that deploy was killed)` : '';
  return `held by ${details.holder} (pid ${details.pid}) for ${age}, deploying ${details.version || 'an unknown version'}${details.message ? `: ${details.message}` : ''}${dead}`;
}

export function lockHeldError(d: Deployment, host: string, holder: LockDetails | undefined, now: Date = new Date(), state: HolderState = 'elsewhere'): GangwayError {
  return new GangwayError('lock', `the deploy lock of ${describeDeployment(d)} is ${describeLockHolder(holder, now, state)}`, {
    host,
    step: 'lock',
    hint: state === 'not-running'
      ? 'its holder is gone: check `gangway status`, then `gangway lock release` and deploy again (a rerun resumes where it stopped)'
      : 'wait for that deploy (or pass --lock-wait), or run `gangway lock release` if its holder is gone',
  });
}

/**
 * Ctrl-C while waiting for someone else's lock: the user's choice, not a lock conflict, so it is
 * 'interrupted' (exit 130) like any other interrupt. Nothing was changed: the lock was never ours.
 */
export function lockWaitInterruptedError(d: Deployment, host: string, holder: LockDetails | undefined): GangwayError {
  const whose = holder ? ` held by ${holder.holder} (pid ${holder.pid})` : '';
  return new GangwayError('interrupted', `interrupted while waiting for the deploy lock of ${describeDeployment(d)}${whose}; nothing was changed`, { host, step: 'lock' });
}

/** A lock command is a mkdir and a cat: anything slower is a host in trouble. */
export const LOCK_COMMAND_TIMEOUT_MS = 30_000;

/** Pure: why a lock command failed, saying so when it hung and was cut off at its timeout. */
export function execFailure(r: ExecResult, timeoutMs: number): string {
  if (r.signal === 'timeout') return `the command hung on the host and was stopped after ${Math.round(timeoutMs / 1000)} s (timed out)`;
  return r.stderr.trim() || `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}`;
}

export type AcquireOutcome = { acquired: true; details: LockDetails } | { acquired: false; holder?: LockDetails };

export async function tryAcquireLock(host: Host, details: LockDetails): Promise<AcquireOutcome> {
  const cmd = acquireLockCommand(details);
  const r = await host.exec(cmd.command, { stdin: cmd.stdin, timeoutMs: LOCK_COMMAND_TIMEOUT_MS });
  if (r.code === 0) return { acquired: true, details };
  if (r.code === LOCK_HELD_EXIT) return { acquired: false, holder: parseLockDetails(r.stdout) };
  throw operationError(`could not take the deploy lock: ${execFailure(r, LOCK_COMMAND_TIMEOUT_MS)}`, { host: host.name, step: 'lock' });
}

export interface AcquireOptions {
  /** Keep trying this long when the lock is held (--lock-wait); 0 = fail at once. */
  waitMs?: number;
  pollIntervalMs?: number;
  onWaiting?: (holder: LockDetails | undefined) => void;
  signal?: AbortSignal;
}

/** Resolves after `ms`, or at once when the signal aborts (a poll must not delay a Ctrl-C). */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Takes the lock, or throws GangwayError('lock') naming the holder (exit 3) once `waitMs` is
 * spent; an abort of `signal` (Ctrl-C) ends the wait with GangwayError('interrupted') (exit 130).
 */
const DETAILS_RETRIES = 10;
const DETAILS_RETRY_MS = 100;

export async function acquireLock(host: Host, details: LockDetails, opts: AcquireOptions = {}): Promise<LockDetails> {
  const deadline = Date.now() + (opts.waitMs ?? 0);
  let notified = false;
  let holder: LockDetails | undefined;
  for (;;) {
    if (opts.signal?.aborted) throw lockWaitInterruptedError(details, host.name, holder);
    let outcome = await tryAcquireLock(host, details);
    // The holder writes its details right after taking the directory: a loser that looked in
    // between would otherwise name nobody. Look again, briefly, before telling the user.
    for (let i = 0; i < DETAILS_RETRIES && !outcome.acquired && outcome.holder === undefined; i++) {
      await pause(DETAILS_RETRY_MS, opts.signal);
      outcome = await tryAcquireLock(host, details);
    }
    if (outcome.acquired) return outcome.details;
    holder = outcome.holder;
    if (opts.signal?.aborted) throw lockWaitInterruptedError(details, host.name, holder);
    if (Date.now() >= deadline) throw lockHeldError(details, host.name, holder, new Date(), holderState(holder));
    if (!notified) { opts.onWaiting?.(holder); notified = true; }
    await pause(Math.min(opts.pollIntervalMs ?? 2000, Math.max(0, deadline - Date.now())), opts.signal);
  }
}

/**
 * Releases the lock. With `id`, a lock taken over meanwhile by someone else is left alone and
 * reported as false; without, it is removed whoever holds it (`gangway lock release`).
 */
export async function releaseLock(host: Host, d: Deployment, id?: string): Promise<boolean> {
  const cmd = releaseLockCommand(d, id);
  const r = await host.exec(cmd.command, { timeoutMs: LOCK_COMMAND_TIMEOUT_MS });
  if (r.code === 0) return true;
  if (r.code === LOCK_HELD_EXIT) return false;
  throw operationError(`could not release the deploy lock: ${execFailure(r, LOCK_COMMAND_TIMEOUT_MS)}`, { host: host.name, step: 'lock' });
}

export type LockStatus = { held: false } | { held: true; details?: LockDetails };

export async function lockStatus(host: Host, d: Deployment): Promise<LockStatus> {
  const r = await host.exec(lockStatusCommand(d).command, { timeoutMs: LOCK_COMMAND_TIMEOUT_MS });
  if (r.code !== 0) throw operationError(`could not read the deploy lock: ${execFailure(r, LOCK_COMMAND_TIMEOUT_MS)}`, { host: host.name, step: 'lock' });
  return parseLockStatus(r.stdout);
}

export function parseLockStatus(stdout: string): LockStatus {
  const [first = '', ...rest] = stdout.split('\n');
  if (first.trim() !== 'held') return { held: false };
  return { held: true, details: parseLockDetails(rest.join('\n')) };
}
