// Holding what serves: the active checks of the servers that carry traffic are stopped, so a
// host made slow by the deploy's own work never has its serving server taken out by a check.
import { messageOf } from '../errors.js';
import { holdChecks } from '../proxy/runtime-operations.js';
import { proxyOf, type DeployRun } from './context.js';
import type { LiveServer } from '../proxy/types.js';

/**
 * Holds the checks of the serving servers on every proxied host that has a proxy answering, but
 * those in `skip` (held by the deploy's first hold, their proxy found as wanted just after it).
 * `read`: per host, its proxy's servers as the deploy just read them (the claim check): one round
 * trip fewer before the pull.
 */
export async function holdServing(run: DeployRun, opts: { quiet: boolean; skip?: ReadonlySet<string>; read?: ReadonlyMap<string, Map<string, LiveServer[]>> }): Promise<void> {
  const { s, hosts, proxied } = run;
  await Promise.all([...proxied].map(async (name) => {
    const host = hosts.get(name);
    if (!host || opts.skip?.has(name)) return;
    try {
      const held = await holdChecks(proxyOf(run, name), opts.read?.get(name));
      if (held.length > 0) s.events.log(`active checks held on ${held.join(', ')}: a server that serves is never taken out by a check`, { host: name, step: 'proxy' });
    } catch (err) {
      // No proxy yet (a first setup): nothing serves, nothing to hold. prepare says more if it fails.
      if (!opts.quiet) s.events.log(`could not hold the proxy's checks: ${messageOf(err)}`, { level: 'warn', host: name, step: 'proxy' });
    }
  }));
}
