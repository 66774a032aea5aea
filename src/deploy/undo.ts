// A failed deploy undone: every target that started is brought back to the version it had, the
// switched ones first getting their old server back.
import { removeContainer } from '../app/container.js';
import { messageOf } from '../errors.js';
import type { Host } from '../hosts/host.js';
import { readServers } from '../proxy/live-servers.js';
import { removeServer, switchTo } from '../proxy/runtime-operations.js';
import { waitDrained, waitHealthy } from '../proxy/waits.js';
import { hostOf, proxyOf, type DeployRun } from './context.js';
import { hasStarted, hasSwitched, transition, type DeployTarget } from './phases.js';
import type { DeployPlan } from './plan.js';
import { sleep } from '../sleep.js';

/** Waits between tries of a (host, role) undo: together they outlast an engine restart (measured 3-10 s). */
const UNDO_RETRY_DELAYS_MS = [2_000, 4_000, 8_000];

/**
 * Undo in reverse: switched hosts get their old server back first (it was drained, never
 * stopped), then every new container is taken out of the proxy and removed. Each step is
 * idempotent, so a (host, role) whose undo failed (its engine or proxy restarting) is tried again
 * a little later rather than left running two versions.
 */
export async function undo(run: DeployRun, plan: DeployPlan): Promise<void> {
  const { events } = run.s;
  await Promise.all(
    plan.targets.map(async (t) => {
      if (t.alreadyLive || !hasStarted(t)) return;
      const host = hostOf(run, t.host);
      const ev = { host: t.host, role: t.role };
      const t0 = Date.now();
      events.step('rollback', 'start', { ...ev, message: t.newContainer });
      for (let attempt = 0; ; attempt++) {
        try {
          await undoTarget(run, t, host);
          if (t.state !== 'failed') transition(t, 'failed');
          transition(t, 'rolled-back');
          events.step('rollback', 'done', { ...ev, message: `removed ${t.newContainer}`, durationMs: Date.now() - t0 });
          return;
        } catch (err) {
          const delay = UNDO_RETRY_DELAYS_MS[attempt];
          if (delay === undefined) {
            events.step('rollback', 'fail', { ...ev, message: messageOf(err) });
            return;
          }
          events.log(`undo of ${t.newContainer} failed (${messageOf(err)}); trying again in ${delay / 1000} s`, { level: 'warn', ...ev, step: 'rollback' });
          await sleep(delay);
        }
      }
    }),
  );
}

/**
 * A switched host gets its old server back before anything is removed. A candidate that never
 * took traffic is removed even while the proxy does not answer (its server, weight 0, routes
 * nothing); the proxy's part is then retried with the whole step.
 */
async function undoTarget(run: DeployRun, t: DeployTarget, host: Host): Promise<void> {
  const { s } = run;
  let proxyError: unknown;
  if (t.proxied) {
    const pt = proxyOf(run, t.host);
    if (hasSwitched(t)) {
      const back = (await readServers(pt)).filter((srv) => srv.name !== t.newContainer && t.oldContainers.includes(srv.name));
      if (back[0]) {
        // Held: it served until the switch and was never stopped; it takes traffic back at once.
        // Otherwise (its proxy restarted since, and checks it again) a real check must pass.
        if (back[0].health !== 'held') await waitHealthy(pt, back[0].name, s.loaded.config.deploy_timeout);
        await switchTo(pt, back[0].name, [t.newContainer]);
        await waitDrained(pt, t.newContainer, s.loaded.config.drain_timeout);
      }
    }
    await removeServer(pt, t.newContainer).catch((err: unknown) => { proxyError = err; });
  }
  await removeContainer(host, t.newContainer);
  if (proxyError !== undefined) throw proxyError;
}
