// The hosts `setup` and `accessory` work on: the roles' hosts from the session's pool, plus hosts
// that only run accessories (a dedicated database host), which deploys never connect to.
import type { LoadedConfig } from '../config/load.js';
import { hostTargetOf } from '../config/resolve.js';
import { GangwayError } from '../errors.js';
import type { Host, HostTarget } from '../hosts/host.js';
import { hostPoolFor, type Session } from '../deploy/session.js';

/** Connection details of a host named only by accessories, from hosts: and ssh: like any other. */
export function hostTargetFor(loaded: Pick<LoadedConfig, 'config' | 'baseDir'>, name: string): HostTarget {
  return hostTargetOf(loaded.config, name, loaded.baseDir);
}

export interface HostSet {
  /** Connected hosts in the order asked. */
  hosts: Map<string, Host>;
  /** Closes the connections this set opened beyond the session's pool. */
  close(): Promise<void>;
}

/** Connects the named hosts in parallel; fails naming every unreachable one before anything is touched. */
export async function connectHosts(s: Session, names: string[]): Promise<HostSet> {
  const known = new Set(s.pool.names());
  const extraNames = names.filter((n) => !known.has(n));
  // pre-connect first, on its own: its failure is the command's, not one per host.
  await s.beforeConnect();
  const extra = hostPoolFor(s.loaded, extraNames.map((n) => hostTargetFor(s.loaded, n)), s.events, s.beforeConnect);
  const hosts = new Map<string, Host>();
  const failures: GangwayError[] = [];
  await Promise.all(
    names.map(async (name) => {
      try {
        hosts.set(name, await (known.has(name) ? s.pool.get(name) : extra.get(name)));
      } catch (err) {
        failures.push(err instanceof GangwayError ? err : new GangwayError('operation', String(err), { host: name }));
      }
    }),
  );
  if (failures.length > 0) {
    await extra.closeAll();
    failures.sort((a, b) => names.indexOf(a.host ?? '') - names.indexOf(b.host ?? ''));
    throw new GangwayError('operation', `cannot reach ${failures.map((f) => f.host).join(', ')}; nothing was changed`, {
      step: 'connect',
      details: failures.map((f) => `${f.host}: ${f.message}`),
      hint: 'check the host is up and `gangway hosts check` passes',
    });
  }
  return { hosts: new Map(names.map((n) => [n, hosts.get(n)!])), close: () => extra.closeAll() };
}
