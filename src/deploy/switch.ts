// Switching one booted target: its new container becomes the one that serves.
import { readServers } from '../proxy/live-servers.js';
import { switchTo } from '../proxy/runtime-operations.js';
import { proxyOf, type DeployRun } from './context.js';
import { transition, type DeployTarget } from './phases.js';

/** Proxied: new server ready, old ones drained. Others: the new container is simply the live one. */
export async function switchTarget(run: DeployRun, t: DeployTarget): Promise<void> {
  const { s } = run;
  if (t.state !== 'uptested') return;
  if (t.proxied && !t.alreadyLive) {
    const pt = proxyOf(run, t.host);
    const live = await readServers(pt);
    const olds = live.filter((srv) => srv.name !== t.newContainer && srv.state === 'ready').map((srv) => srv.name);
    await switchTo(pt, t.newContainer, olds);
  }
  transition(t, 'switched');
  // Per (host, role), proxied or not: where a target's boot ends (boot.limit counts up to here).
  if (!t.alreadyLive) s.events.step('switch', 'done', { host: t.host, role: t.role, message: `${t.newContainer} is live` });
}
