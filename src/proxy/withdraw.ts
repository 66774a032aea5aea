// Taking one (service, destination) off a host's shared proxy, for `gangway remove`: its routes
// first (no new request reaches it), then, once its servers are drained and deleted, its slot.
// Every other owner's slot, routes and connections are left as they are: only map entries of
// this owner change, through the runtime API, and the files follow.
import { withdrawClaim } from './claims.js';
import { writeLayoutFiles } from './file-sync.js';
import { renderLayoutFiles } from './layout-files.js';
import { currentLayout } from './live-layout.js';
import { readServers } from './live-servers.js';
import { applyMapChanges, proxyState } from './lifecycle.js';
import { withRouteLock } from './route-lock.js';
import { removeServer } from './runtime-operations.js';
import { ownerOfTarget, proxyError, type ProxyTarget } from './target.js';
import { waitDrained, type DrainResult } from './waits.js';

export type WithdrawStep = 'routes' | 'slot';

/**
 * One step of the withdrawal under the route lock: the running proxy's maps change at runtime and
 * the files are rewritten from the result; a stopped proxy gets the files only (it loads them at
 * its start). False: this owner holds no slot on this host (nothing to do).
 */
async function withdrawStep(t: ProxyTarget, step: WithdrawStep, state: 'stopped' | 'running'): Promise<boolean> {
  return withRouteLock(t, async () => {
    const current = await currentLayout(t, state === 'running');
    if (current.legacyRuntime) {
      throw proxyError(t, `the proxy on ${t.host.name} still runs the single-service layout`, { hint: 'a deploy or setup of any service on this host moves it to the shared layout; remove after that' });
    }
    if (!current.layout) return false;
    const after = withdrawClaim(current.layout, ownerOfTarget(t), step);
    if (!after) return false;
    if (state === 'running') await applyMapChanges(t, current.layout, after);
    await writeLayoutFiles(t, renderLayoutFiles(after));
    return true;
  });
}

export interface WithdrawOutcome {
  /** False: the owner held no slot on this host. */
  routed: boolean;
  drains: Array<{ server: string } & DrainResult>;
}

/**
 * Routes off, then every server of the slot drained (up to drainTimeoutMs each, in parallel) and
 * deleted, then the slot freed. The app's containers are still running throughout, so a request
 * already inside finishes; the caller stops them after this.
 */
export async function withdrawService(t: ProxyTarget, drainTimeoutMs: number): Promise<WithdrawOutcome> {
  const state = await proxyState(t);
  if (state === 'absent' || !(await withdrawStep(t, 'routes', state))) return { routed: false, drains: [] };
  const servers = state === 'running' ? await readServers(t) : [];
  const drains = await Promise.all(servers.map(async (s) => ({ server: s.name, ...(await waitDrained(t, s.name, drainTimeoutMs)) })));
  for (const s of servers) await removeServer(t, s.name);
  await withdrawStep(t, 'slot', state);
  return { routed: true, drains };
}
