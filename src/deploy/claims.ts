// Before anything changes on any host: may this service take the routes it declares on every
// proxied host? Reads each host's proxy (its maps and live backends, what is really there), not
// only the local config; a conflict is a config error (exit 2) naming both sides.
import { GangwayError } from '../errors.js';
import { proxiedRoleConflicts } from '../proxy/claims.js';
import { checkClaim } from '../proxy/lifecycle.js';
import type { DeployRun } from './context.js';
import type { LiveServer } from '../proxy/types.js';

/**
 * Refuses the deploy when a route is another service's; returns, per proxied host whose proxy
 * runs, every backend's servers as the check read them (what the first hold acts on).
 */
export async function assertProxyClaims(run: DeployRun): Promise<Map<string, Map<string, LiveServer[]>>> {
  const { s } = run;
  const roles = s.loaded.roles.filter((r) => r.proxied).map((r) => ({ role: r.name, hosts: r.hosts }));
  const local = proxiedRoleConflicts(s.loaded.config.service, roles);
  if (local.length > 0) throw new GangwayError('config', local[0]!, { step: 'proxy', details: local.slice(1), hint: 'nothing was changed' });
  const names = [...run.proxies.keys()];
  const settled = await Promise.allSettled([...run.proxies.values()].map((pt) => checkClaim(pt)));
  const failures = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length === 0) return new Map(settled.flatMap((r, i) => (r.status === 'fulfilled' && r.value ? [[names[i]!, r.value] as const] : [])));
  const conflict = failures.find((f) => f instanceof GangwayError && f.code === 'config');
  // A conflict outranks a host whose proxy could not be read: it is what the user must fix.
  throw conflict ?? failures[0];
}
