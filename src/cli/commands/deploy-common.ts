// Shared by deploy, setup and rollback: version and flags, Ctrl-C handling, and the run itself.
import { canarySchema, parseDurationMs } from '../../config/schema.js';
import { usageError } from '../../errors.js';
import { runDeploy, type DeployAction } from '../../deploy/run.js';
import { describePlan, planDeploy } from '../../deploy/plan.js';
import { connectAll } from '../../fleet/connect.js';
import { imageRef, type Session } from '../../fleet/session.js';
import { observeForStatus } from '../../deploy/status.js';
import { resolveVersion } from '../../release/version.js';
import type { CommandContext } from '../context.js';
import { sessionForCommand } from '../load.js';

export interface DeployFlags {
  version?: string;
  message?: string;
  lockWait?: string;
  dryRun?: boolean;
  /** deploy only: run the canary steps of the config's `canary` (its defaults without one). */
  canary?: boolean;
}

export function lockWaitMs(flags: DeployFlags): number {
  if (flags.lockWait === undefined) return 0;
  try {
    return parseDurationMs(flags.lockWait);
  } catch {
    throw usageError(`--lock-wait ${flags.lockWait}: expected a duration such as 30s or 2m`);
  }
}

/**
 * SIGINT/SIGTERM abort the deploy (which then brings every host back to one version); a second
 * signal exits at once.
 */
export function interruptSignal(s: Session): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (name: string) => {
    if (controller.signal.aborted) process.exit(130);
    s.events.log(`${name}: stopping; bringing every host back to one version (press Ctrl-C again to exit at once)`, { level: 'warn' });
    controller.abort();
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return { signal: controller.signal, dispose: () => { process.off('SIGINT', onInt); process.off('SIGTERM', onTerm); } };
}

export async function dryRun(s: Session, version: string, action: DeployAction = 'deploy'): Promise<void> {
  const hosts = await connectAll(s);
  const observed = new Map(await Promise.all([...hosts.values()].map(async (h) => [h.name, await observeForStatus(s, h)] as const)));
  const plan = planDeploy({ deployment: s.deployment, version, roles: s.loaded.roles, observed });
  for (const line of describePlan(plan, { image: s.loaded.config.image, bootLimit: s.loaded.config.boot.limit, action })) s.events.log(line);
}

export async function deployCommand(ctx: CommandContext, action: DeployAction, flags: DeployFlags, pickVersion?: (s: Session) => Promise<string>): Promise<number> {
  const wait = lockWaitMs(flags);
  const s = await sessionForCommand(ctx);
  try {
    const version = pickVersion ? await pickVersion(s) : (await resolveVersion({ flag: flags.version, env: ctx.env, cwd: s.loaded.baseDir })).version;
    s.version = version;
    if (flags.dryRun) {
      await dryRun(s, version, action);
      return 0;
    }
    s.events.log(`${action} ${imageRef(s, version)}`);
    const interrupt = interruptSignal(s);
    try {
      const canary = flags.canary ? (s.loaded.config.canary ?? canarySchema.parse({})) : undefined;
      await runDeploy(s, { version, action, startedAt: performance.timeOrigin, ...(flags.message ? { message: flags.message } : {}), lockWaitMs: wait, signal: interrupt.signal, ...(canary ? { canary } : {}) });
    } finally {
      interrupt.dispose();
    }
    return 0;
  } finally {
    await s.close();
  }
}
