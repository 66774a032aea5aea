// What every command that changes a service's hosts shares: the deploy lock on the primary host
// around its work (released whatever happens), and one audit line on every host it touched.
import { messageOf } from '../errors.js';
import { performer } from '../hooks/hooks.js';
import type { Host } from '../hosts/host.js';
import { appendAuditEverywhere } from '../state/audit.js';
import { acquireLock, newLockDetails, releaseLock } from '../state/lock.js';
import type { Session } from '../fleet/session.js';

export interface LockRequest {
  /** The primary host, where the lock lives. */
  host: Host;
  version: string;
  message: string;
  waitMs?: number;
  signal?: AbortSignal;
}

/** Runs `work` holding the deploy lock; a lock that cannot be released is a warning, never the command's failure. */
export async function withDeployLock<T>(s: Session, req: LockRequest, work: () => Promise<T>): Promise<T> {
  const { events, deployment } = s;
  const where = { host: req.host.name, step: 'lock' };
  events.step('lock', 'start', { host: req.host.name });
  const lock = await acquireLock(req.host, newLockDetails({ deployment, version: req.version, message: req.message }), {
    waitMs: req.waitMs ?? 0,
    onWaiting: (holder) => events.log(`waiting for the deploy lock held by ${holder?.holder ?? 'someone'}`, where),
    ...(req.signal ? { signal: req.signal } : {}),
  });
  events.step('lock', 'done', { host: req.host.name });
  try {
    return await work();
  } finally {
    await releaseLock(req.host, deployment, lock.id).catch((err: unknown) => {
      events.log(`could not release the deploy lock: ${messageOf(err)}`, { ...where, level: 'warn' });
    });
  }
}

export interface AuditLine {
  action: string;
  version: string;
  ok: boolean;
  message: string;
}

/** One audit line on every host, success or failure; a host that cannot write it is a warning. */
export async function auditEverywhere(s: Session, hosts: Host[], line: AuditLine): Promise<void> {
  const audit = await appendAuditEverywhere(hosts, s.deployment, {
    ts: new Date().toISOString(),
    user: performer(),
    action: line.action,
    version: line.version,
    result: line.ok ? 'ok' : 'failed',
    message: line.message,
  }, { redact: (text) => s.events.redact(text) });
  for (const a of audit) if (a.error) s.events.log(`audit log not written: ${a.error}`, { level: 'warn', host: a.host, step: 'audit' });
}
