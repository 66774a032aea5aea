// After every host switched: drain and stop the old containers; then prune old versions (from the
// deploy's last reading of the hosts). Traffic is already on the new version, so a failure here
// is reported, never undone.
import { removeContainer, stopContainer } from '../app/container.js';
import { messageOf } from '../errors.js';
import type { Host } from '../hosts/host.js';
import { readServers } from '../proxy/live-servers.js';
import { syncConfig } from '../proxy/file-sync.js';
import { removeServer, removeServerAtRuntime } from '../proxy/runtime-operations.js';
import { afterProxyReturns, waitDrained } from '../proxy/waits.js';
import { planRetention, type AppContainer } from '../state/labels.js';
import { hostOf, proxyOf, type DeployRun } from './context.js';
import { transition } from './phases.js';
import type { DeployPlan } from './plan.js';

const STOP_GRACE_MS = 10_000;

/** Every host switched: drain and stop the old containers. */
export async function finalize(run: DeployRun, plan: DeployPlan): Promise<void> {
  const { s } = run;
  const cfg = s.loaded.config;
  const { events } = s;
  await Promise.all(
    plan.targets.map(async (t) => {
      const host = hostOf(run, t.host);
      const ev = { host: t.host, role: t.role };
      const unremoved: string[] = [];
      try {
        const pt = t.proxied ? proxyOf(run, t.host) : undefined;
        // A proxy that restarts meanwhile (its socket gone for a moment) is waited for, and the
        // drain read again from what it loaded: the old server is still in its file, in drain.
        if (pt) {
          await afterProxyReturns(pt, async () => {
            unremoved.length = 0;
            const stale = (await readServers(pt)).filter((srv) => srv.name !== t.newContainer).map((srv) => srv.name);
            const t0 = Date.now();
            if (stale.length > 0) events.step('drain', 'start', { ...ev, message: stale.join(', ') });
            const drains = await Promise.all(stale.map((name) => waitDrained(pt, name, cfg.drain_timeout)));
            const cut = drains.reduce((n, d) => n + d.sessions, 0);
            if (stale.length > 0) events.step('drain', 'done', { ...ev, message: cut === 0 ? 'zero sessions' : `drain_timeout reached: ${cut} open session${cut === 1 ? '' : 's'} cut by the stop`, durationMs: Date.now() - t0 });
            // A server HAProxy will not delete yet (connections still attached, e.g. after an engine
            // restart moved addresses under it) takes no new traffic: the old container is stopped
            // anyway, which ends its connections, and the delete is tried again after the stop.
            for (const name of stale) await removeServerAtRuntime(pt, name).catch(() => unremoved.push(name));
          });
        }
        transition(t, 'drained');
        // The file follows the runtime while the old containers stop: the stop needs them out of
        // the runtime only (a proxy restarted before the file is written loads them in drain).
        const synced = pt ? afterProxyReturns(pt, () => syncConfig(pt)) : Promise.resolve();
        synced.catch(() => {}); // awaited below, after the stops
        for (const old of t.oldContainers) {
          const t0 = Date.now();
          events.step('stop', 'start', { ...ev, message: old });
          await stopContainer(host, old, STOP_GRACE_MS);
          events.step('stop', 'done', { ...ev, message: old, durationMs: Date.now() - t0 });
        }
        await synced;
        if (pt) await afterProxyReturns(pt, async () => { for (const name of unremoved) await removeServer(pt, name); });
        transition(t, 'stopped-old');
        transition(t, 'done');
      } catch (err) {
        // Traffic is already on the new version; a leftover old container is reported, not undone.
        events.log(`finishing ${t.role} on ${t.host} failed: ${messageOf(err)}`, { ...ev, level: 'warn', step: 'finalize' });
      }
    }),
  );
}

/** The app containers beyond `retain` removed, and their images; `containers`: the host's app containers as just read. */
export async function prune(run: DeployRun, host: Host, version: string, containers: AppContainer[]): Promise<void> {
  const { s } = run;
  const cfg = s.loaded.config;
  try {
    const plan = planRetention(containers, cfg.retain, [version]);
    if (plan.removeContainers.length === 0) return;
    const docker = await host.docker();
    for (const c of plan.removeContainers) await removeContainer(host, c.id);
    for (const id of plan.removeImageIds) await docker.getImage(id).remove().catch(() => {});
    s.events.step('prune', 'done', { host: host.name, message: plan.removeContainers.map((c) => c.name).join(', ') });
  } catch (err) {
    s.events.log(`pruning old versions failed: ${messageOf(err)}`, { level: 'warn', host: host.name, step: 'prune' });
  }
}
