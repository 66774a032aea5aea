// Switching one booted target: its new container becomes the one that serves.
import { switchTo } from '../proxy/runtime-operations.js';
import { proxyOf, type DeployRun } from './context.js';
import { transition, type DeployTarget } from './phases.js';

/** Proxied: new server ready, old ones drained. Others: the new container is simply the live one. */
export async function switchTarget(run: DeployRun, t: DeployTarget): Promise<void> {
  const { s } = run;
  if (t.state !== 'uptested') return;
  if (t.proxied && !t.alreadyLive) {
    // Every other ready server of the backend drains: switchTo reads them with the new one's health.
    await switchTo(proxyOf(run, t.host), t.newContainer);
  }
  transition(t, 'switched');
  // Per (host, role), proxied or not: where a target's boot ends (boot.limit counts up to here).
  if (!t.alreadyLive) s.events.step('switch', 'done', { host: t.host, role: t.role, message: `${t.newContainer} is live` });
}
