// Connecting a command's hosts, written once: in parallel, pre-connect hook first, each
// unreachable host named. The caller picks what a failure means: a deploy or a setup stops before
// anything is touched (all-or-nothing), a read-only command reports the host and goes on with
// the others (best-effort).
import type { LoadedConfig } from '../config/load.js';
import { hostTargetOf } from '../config/resolve.js';
import { GangwayError } from '../errors.js';
import type { Host, HostTarget } from '../hosts/host.js';
import { hostPoolFor, type Session } from './session.js';

export type ConnectPolicy = 'all-or-nothing' | 'best-effort';

export interface ConnectOptions {
  policy: ConnectPolicy;
  /** Report the connection as the command's `connect` step (start, then done or fail). */
  announce?: boolean;
  /**
   * Hosts outside the session's pool (those only accessories use) get a pool of their own,
   * closed by the set's close(). Without it such a name fails as an unknown host.
   */
  beyondPool?: boolean;
}

export interface HostSet {
  /** Connected hosts in the order asked (best-effort: only those reached). */
  hosts: Map<string, Host>;
  /** One error per host that could not be reached, in the order asked (best-effort only). */
  unreachable: GangwayError[];
  /** Closes the connections this set opened beyond the session's pool. */
  close(): Promise<void>;
}

/** Connection details of a host named only by accessories, from hosts: and ssh: like any other. */
export function hostTargetFor(loaded: Pick<LoadedConfig, 'config' | 'baseDir' | 'connectionContext'>, name: string): HostTarget {
  return hostTargetOf(loaded.config, name, loaded.baseDir, undefined, loaded.connectionContext);
}

/** Connects the named hosts in parallel; all-or-nothing fails naming every unreachable one before anything is touched. */
export async function connectHosts(s: Session, names: string[], opts: ConnectOptions): Promise<HostSet> {
  const known = new Set(s.pool.names());
  const extraNames = opts.beyondPool ? names.filter((n) => !known.has(n)) : [];
  // pre-connect first, on its own: its failure is the command's, not one per host (nor makes
  // every host "unreachable").
  await s.pool.ready();
  const started = Date.now();
  if (opts.announce) s.events.step('connect', 'start', { message: names.join(', ') });
  const extra = hostPoolFor(s.loaded, extraNames.map((n) => hostTargetFor(s.loaded, n)), s.events, s.beforeConnect, s.pool.credentials);
  const extraSet = new Set(extraNames);
  const hosts = new Map<string, Host>();
  const failures: GangwayError[] = [];
  await Promise.all(
    names.map(async (name) => {
      try {
        hosts.set(name, await (extraSet.has(name) ? extra.get(name) : s.pool.get(name)));
      } catch (err) {
        const failure = err instanceof GangwayError ? err : new GangwayError('operation', String(err), { host: name });
        failures.push(failure);
        if (opts.policy === 'best-effort') s.events.log(`unreachable: ${failure.message}`, { level: 'error', host: name });
      }
    }),
  );
  const inOrder = (reached: Map<string, Host>) => new Map(names.filter((n) => reached.has(n)).map((n) => [n, reached.get(n)!]));
  failures.sort((a, b) => names.indexOf(a.host ?? '') - names.indexOf(b.host ?? ''));
  if (failures.length > 0 && opts.policy === 'all-or-nothing') {
    await extra.closeAll();
    if (opts.announce) s.events.step('connect', 'fail', { durationMs: Date.now() - started });
    throw new GangwayError('operation', `cannot reach ${failures.map((f) => f.host).join(', ')}; nothing was changed`, {
      step: 'connect',
      details: failures.map((f) => `${f.host}: ${f.message}`),
      hint: 'check the host is up and `gangway hosts check` passes',
    });
  }
  if (opts.announce) s.events.step('connect', 'done', { durationMs: Date.now() - started, message: `${names.length} host${names.length === 1 ? '' : 's'}` });
  return { hosts: inOrder(hosts), unreachable: failures, close: () => extra.closeAll() };
}

/**
 * A deploy's connection: every host in parallel, failing, naming each unreachable host, before
 * anything is touched: a deploy that cannot reach a host must not change the others.
 */
export async function connectAll(s: Session, names: string[] = s.pool.names()): Promise<Map<string, Host>> {
  return (await connectHosts(s, names, { policy: 'all-or-nothing', announce: true })).hosts;
}

/** Read-only commands (status, audit, logs...) talk to every host they can reach and report the ones they cannot. */
export async function reachableHosts(s: Session, names: string[] = s.pool.names()): Promise<{ hosts: Host[]; unreachable: number }> {
  const set = await connectHosts(s, names, { policy: 'best-effort' });
  return { hosts: [...set.hosts.values()], unreachable: set.unreachable.length };
}
