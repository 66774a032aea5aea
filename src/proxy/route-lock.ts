// The shared proxy's own lock on a host. The deploy lock is per (service, destination), so two
// services may deploy to one host at the same instant; each reads the host's maps, picks a free
// slot and writes the files back. Without this lock both could pick the same slot, or one could
// write files rendered from a reading the other has just made stale. Held only around a
// read-decide-apply of the maps or a file sync (well under a second), never across a deploy.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { shellQuote, type ShellCommand } from '../state/shell.js';
import { dirOf, proxyError, type ProxyTarget } from './target.js';
import { pause } from './waits.js';

/** Exit status of the acquire line when another process holds the lock. */
const HELD_EXIT = 3;
/**
 * A holder that died (a SIGKILLed gangway) leaves the directory behind. The longest critical
 * section is a proxy (re)created and waited for (its ready wait is 20 s), so an older lock is
 * taken over, well inside a waiter's minute: a rerun after a kill waits, it does not fail.
 */
export const STALE_AFTER_S = 45;
const WAIT_MS = 60_000;
const POLL_MS = 100;

/** Beside the proxy's directory, so a proxy with its own hostDir (tests, benches) has its own lock. */
export const routeLockPath = (proxyDir: string): string => `${proxyDir}.lock`;

/** mkdir (atomic); a lock older than STALE_AFTER_S is replaced; exit 3 while someone holds it. */
export function acquireRouteLockCommand(proxyDir: string, token: string): ShellCommand {
  const dir = shellQuote(routeLockPath(proxyDir));
  const owner = shellQuote(`${routeLockPath(proxyDir)}/owner`);
  const take = `mkdir ${dir} 2>/dev/null && echo ${shellQuote(token)} > ${owner}`;
  const stale = `[ $(( $(date +%s) - $(stat -c %Y ${dir} 2>/dev/null || date +%s) )) -gt ${STALE_AFTER_S} ]`;
  return { command: `mkdir -p ${shellQuote(posix.dirname(proxyDir))} && { ${take} || { ${stale} && rm -rf ${dir} && ${take}; } || exit ${HELD_EXIT}; }` };
}

/** Removes the lock only while it is still this token's (a stale takeover leaves the new holder's). */
export function releaseRouteLockCommand(proxyDir: string, token: string): ShellCommand {
  const dir = shellQuote(routeLockPath(proxyDir));
  return { command: `if grep -qxF ${shellQuote(token)} ${shellQuote(`${routeLockPath(proxyDir)}/owner`)} 2>/dev/null; then rm -rf ${dir}; fi` };
}

/**
 * What `fn` holds: the lock's release can ride on its last remote command (one exec fewer per
 * file sync, which a deploy does three times per host). The release is tied to this holder's
 * token, so running it twice is harmless.
 */
export interface RouteLockHeld {
  /** `command`, then the release whatever it exited with; exits with `command`'s status. */
  releasingAfter(command: string): string;
}

/** Pure: `command` followed by the release of `token`'s lock, keeping `command`'s exit status. */
export function releasingAfterCommand(command: string, proxyDir: string, token: string): string {
  // A subshell, not braces: an `exit` inside the command must not skip the release.
  return `( ${command} ); rc=$?; ${releaseRouteLockCommand(proxyDir, token).command}; exit $rc`;
}

/** Runs `fn` holding the host's route lock; waits up to a minute for another holder. */
export async function withRouteLock<T>(t: ProxyTarget, fn: (held: RouteLockHeld) => Promise<T>): Promise<T> {
  const dir = dirOf(t);
  const token = randomBytes(8).toString('hex');
  const acquire = acquireRouteLockCommand(dir, token);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const r = await t.host.exec(acquire.command);
    if (r.code === 0) break;
    if (r.code !== HELD_EXIT) throw proxyError(t, `cannot take the proxy's route lock on ${t.host.name}: ${r.stderr.trim() || `exit ${r.code}`}`);
    if (Date.now() >= deadline) {
      throw proxyError(t, `the proxy's route lock on ${t.host.name} stayed held for ${WAIT_MS / 1000} s`, { hint: `another gangway is changing this proxy's routes; a lock left by a killed one expires after ${STALE_AFTER_S} s (${routeLockPath(dir)})` });
    }
    await pause(POLL_MS);
  }
  let releasedInline = false;
  const held: RouteLockHeld = {
    releasingAfter: (command) => {
      releasedInline = true;
      return releasingAfterCommand(command, dir, token);
    },
  };
  let ok = false;
  try {
    const value = await fn(held);
    ok = true;
    return value;
  } finally {
    // After a failure the inline release may not have run (the command never reached the host).
    if (!ok || !releasedInline) await t.host.exec(releaseRouteLockCommand(dir, token).command).catch(() => {});
  }
}
