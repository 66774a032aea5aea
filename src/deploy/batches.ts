// The order of the boots: roles in batches of boot.limit hosts, the primary role first, the others
// once the first primary container is healthy. Each batch boots (boot.ts), then switches (switch.ts).
import type { ResolvedRole } from '../config/resolve.js';
import { bootTarget } from './boot.js';
import type { DeployRun, Fail } from './context.js';
import type { DeployTarget } from './phases.js';
import { bootBatches, type DeployPlan } from './plan.js';
import { sleep } from '../sleep.js';
import { switchTarget } from './switch.js';

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * Every role boots in batches of `boot.limit` of its own hosts (`boot.wait` between batches) and
 * switches batch by batch, so no more than the limit of a role's hosts are between start and
 * switch at once. The primary role starts at once; the other roles wait for the first healthy
 * primary container (on the primary host), as Kamal does, then boot side by side.
 */
export async function bootAll(run: DeployRun, plan: DeployPlan, signal: AbortSignal, fail: Fail, opts: { holdSwitch?: boolean } = {}): Promise<void> {
  const { s } = run;
  const cfg = s.loaded.config;
  const { events } = s;
  const primary = plan.primaryRole;
  const firstHealthy = deferred();
  const targetOf = (host: string, role: string) => plan.targets.find((t) => t.host === host && t.role === role)!;

  const primaryFirst = targetOf(plan.primaryHost, primary.name);
  const onHealthy = (t: DeployTarget) => { if (t === primaryFirst) firstHealthy.resolve(); };
  let unhealthyReported = false;
  const onUnhealthy = (t: DeployTarget) => {
    if (t !== primaryFirst || unhealthyReported) return;
    unhealthyReported = true;
    events.log(`First ${primary.name} container is unhealthy on ${t.host}, not booting any other roles`, { level: 'error', host: t.host, role: t.role });
    firstHealthy.reject(new Error('first primary container unhealthy'));
  };
  const ignore = () => {};

  const bootInBatches = async (role: ResolvedRole): Promise<void> => {
    const isPrimary = role === primary;
    for (const [i, batch] of bootBatches(role.hosts, cfg.boot.limit).entries()) {
      if (i > 0 && cfg.boot.wait > 0) await sleep(cfg.boot.wait, signal);
      if (signal.aborted) return;
      const targets = batch.map((h) => targetOf(h, role.name));
      await Promise.all(targets.map((t) => bootTarget(run, t, { version: plan.version, signal, fail, onHealthy: isPrimary ? onHealthy : ignore, onUnhealthy: isPrimary ? onUnhealthy : ignore })));
      // A canary (holdSwitch) switches nothing here: every target waits, uptested, for its verdict.
      if (signal.aborted || opts.holdSwitch) continue;
      await Promise.all(targets.map((t) => switchTarget(run, t).catch((err: unknown) => fail(err, t))));
    }
  };

  const primaryJob = (async () => {
    await bootInBatches(primary);
    // A primary host that never got to boot (aborted earlier) must release the waiting roles.
    firstHealthy.reject(new Error('primary role did not become healthy'));
  })();

  const otherJobs = s.loaded.roles.filter((r) => r !== primary).map(async (role) => {
    // A role already live everywhere (a rerun) has nothing to wait for.
    const waiting = plan.targets.filter((t) => t.role === role.name && !t.alreadyLive);
    if (waiting.length > 0) {
      for (const t of waiting) events.log(`Waiting for the first healthy ${primary.name} container before booting ${t.role} on ${t.host}...`, { host: t.host, role: t.role });
      try {
        await firstHealthy.promise;
      } catch {
        for (const t of waiting) events.log(`First ${primary.name} container is unhealthy, not booting ${t.role} on ${t.host}`, { level: 'error', host: t.host, role: t.role });
        return;
      }
    }
    await bootInBatches(role);
  });

  await Promise.all([primaryJob, ...otherJobs]);
}
