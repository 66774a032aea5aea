// `gangway audit`: each host's audit log, and `gangway history`: the deploys across hosts, merged.
import { readAudit, type AuditEntry } from '../../state/audit.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { sessionForCommand } from '../load.js';
import { reachableHosts } from '../../fleet/connect.js';

const line = (e: AuditEntry) => `${e.ts} ${e.user} ${e.action} ${e.version} ${e.result}${e.message ? ` - ${e.message}` : ''}`;

export async function run(globals: GlobalOptions, _args: unknown[], flags: { lines?: string }): Promise<number> {
  return runCommand('audit', globals, async (ctx) => {
    const s = await sessionForCommand(ctx);
    try {
      const { hosts, unreachable } = await reachableHosts(s);
      const logs = await Promise.all(hosts.map(async (h) => [h, await readAudit(h, s.deployment, Number(flags.lines ?? 50))] as const));
      for (const [host, entries] of logs) {
        for (const e of entries) {
          s.events.result('audit', { ...e }, { host: host.name });
          s.events.log(line(e), { host: host.name });
        }
      }
      return unreachable > 0 ? 1 : 0;
    } finally {
      await s.close();
    }
  });
}

/** One entry per action across hosts: the same action recorded on several hosts is one event. */
export function mergeHistory(perHost: AuditEntry[][]): Array<AuditEntry & { hosts: string[] }> {
  const byKey = new Map<string, AuditEntry & { hosts: string[] }>();
  for (const entries of perHost) {
    for (const e of entries) {
      const key = `${e.ts}\u0000${e.action}\u0000${e.version}\u0000${e.user}`;
      const seen = byKey.get(key);
      if (seen) seen.hosts.push(e.host);
      else byKey.set(key, { ...e, hosts: [e.host] });
    }
  }
  return [...byKey.values()].sort((a, b) => a.ts.localeCompare(b.ts));
}

export async function history(globals: GlobalOptions): Promise<number> {
  return runCommand('history', globals, async (ctx) => {
    const s = await sessionForCommand(ctx);
    try {
      const { hosts, unreachable } = await reachableHosts(s);
      const perHost = await Promise.all(hosts.map((h) => readAudit(h, s.deployment, 0)));
      for (const e of mergeHistory(perHost)) {
        s.events.result('history', { ...e });
        s.events.log(`${line(e)} [${e.hosts.join(', ')}]`);
      }
      return unreachable > 0 ? 1 : 0;
    } finally {
      await s.close();
    }
  });
}
