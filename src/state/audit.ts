// The audit log: one JSON line per action, appended on every host the action touched, so the
// history survives with the hosts. One log per deployment (service, or service@destination), so
// `gangway -d staging history` is staging's and production's history stays production's. One `>>` of one short line is one O_APPEND write, which keeps
// concurrent appends from interleaving. Entries hold names and versions only, never env values.
import type { Host } from '../hosts/host.js';
import { messageOf, operationError } from '../errors.js';
import { deploymentKey, type Deployment } from './deployment.js';
import { GANGWAY_STATE_DIR, shellQuote, type ShellCommand } from './shell.js';

export const AUDIT_DIR = `${GANGWAY_STATE_DIR}/audit`;
/** Below PIPE_BUF (4096) so the line crosses the stdin pipe and the file in one write. */
export const MAX_AUDIT_LINE_BYTES = 3800;

export interface AuditEntry {
  /** ISO time. */
  ts: string;
  /** Who ran gangway (user@machine). */
  user: string;
  /** The host this line is about. */
  host: string;
  role?: string;
  /** deploy, rollback, lock-release... */
  action: string;
  version: string;
  /** ok, failed, rolled-back... */
  result: string;
  message: string;
}

export function auditLogPath(d: Deployment): string {
  return `${AUDIT_DIR}/${deploymentKey(d)}.log`;
}

/** Pure: one JSON line, the message shortened if the line would be too long for one write. */
export function auditLine(entry: AuditEntry): string {
  const ordered: AuditEntry = { ts: entry.ts, user: entry.user, host: entry.host, ...(entry.role ? { role: entry.role } : {}), action: entry.action, version: entry.version, result: entry.result, message: entry.message };
  let line = JSON.stringify(ordered);
  if (Buffer.byteLength(line) > MAX_AUDIT_LINE_BYTES) {
    // Longest prefix of the message that fits once escaped (binary search on its length).
    const fits = (n: number) => Buffer.byteLength(JSON.stringify({ ...ordered, message: `${entry.message.slice(0, n)}…` })) <= MAX_AUDIT_LINE_BYTES;
    let lo = 0;
    let hi = entry.message.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (fits(mid)) lo = mid;
      else hi = mid - 1;
    }
    line = JSON.stringify({ ...ordered, message: `${entry.message.slice(0, lo)}…` });
  }
  return `${line}\n`;
}

export function appendAuditCommand(d: Deployment, entry: AuditEntry): ShellCommand {
  return { command: `mkdir -p ${shellQuote(AUDIT_DIR)} && cat >> ${shellQuote(auditLogPath(d))}`, stdin: auditLine(entry) };
}

/** The last `lines` entries (all with 0); a missing log is an empty history, not an error. */
export function readAuditCommand(d: Deployment, lines: number): ShellCommand {
  const file = shellQuote(auditLogPath(d));
  return { command: lines > 0 ? `if [ -f ${file} ]; then tail -n ${Math.floor(lines)} ${file}; fi` : `if [ -f ${file} ]; then cat ${file}; fi` };
}

/** Pure: lines → entries; a torn or foreign line is skipped rather than failing the history. */
export function parseAuditLog(text: string): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as Partial<AuditEntry>;
      if (typeof e.ts !== 'string' || typeof e.action !== 'string') continue;
      entries.push({
        ts: e.ts,
        user: String(e.user ?? ''),
        host: String(e.host ?? ''),
        ...(e.role ? { role: String(e.role) } : {}),
        action: e.action,
        version: String(e.version ?? ''),
        result: String(e.result ?? ''),
        message: String(e.message ?? ''),
      });
    } catch {
      // skip
    }
  }
  return entries;
}

export interface AppendOptions {
  /** Scrubs secret values out of the message (Events.redact), as a last line of defence. */
  redact?: (text: string) => string;
}

export async function appendAudit(host: Host, d: Deployment, entry: AuditEntry, opts: AppendOptions = {}): Promise<void> {
  const safe = opts.redact ? { ...entry, message: opts.redact(entry.message) } : entry;
  const cmd = appendAuditCommand(d, safe);
  const r = await host.exec(cmd.command, { stdin: cmd.stdin, timeoutMs: 30_000 });
  if (r.code !== 0) throw operationError(`could not append to the audit log: ${r.stderr.trim() || `exit ${r.code}`}`, { host: host.name, step: 'audit' });
}

/**
 * Appends one entry per host (each with its own `host`), in parallel. An audit failure must not
 * turn a finished deploy into a failed one, so failures are returned, not thrown.
 */
export async function appendAuditEverywhere(hosts: Host[], d: Deployment, entry: Omit<AuditEntry, 'host'>, opts: AppendOptions = {}): Promise<{ host: string; error?: string }[]> {
  return Promise.all(
    hosts.map(async (h) => {
      try {
        await appendAudit(h, d, { ...entry, host: h.name }, opts);
        return { host: h.name };
      } catch (err) {
        return { host: h.name, error: messageOf(err) };
      }
    }),
  );
}

export async function readAudit(host: Host, d: Deployment, lines = 50): Promise<AuditEntry[]> {
  const r = await host.exec(readAuditCommand(d, lines).command, { timeoutMs: 30_000 });
  if (r.code !== 0) throw operationError(`could not read the audit log: ${r.stderr.trim() || `exit ${r.code}`}`, { host: host.name, step: 'audit' });
  return parseAuditLog(r.stdout);
}
