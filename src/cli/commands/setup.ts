// `gangway setup`: make every host ready (Docker installed and running, the app network, the
// accessories), then deploy as `gangway deploy` does. Safe to run again: each step is idempotent.
import { runDeploy } from '../../deploy/run.js';
import { imageRef, type Session } from '../../fleet/session.js';
import { operationError } from '../../errors.js';
import { planSetup, prepareForSetup } from '../../provision/setup.js';
import { resolveVersion } from '../../release/version.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { sessionForCommand } from '../load.js';
import { interruptSignal, lockWaitMs, type DeployFlags } from './deploy-common.js';

/** Prints what setup would do; fails (exit 1) where the real setup would stop, naming the hosts. */
async function setupDryRun(s: Session, version: string): Promise<void> {
  const plan = await planSetup(s, version);
  for (const line of plan.lines) s.events.log(line);
  if (plan.refused.length > 0) {
    throw operationError(`setup would stop on ${plan.refused.map((r) => r.host).join(', ')}: ${plan.refused[0]!.reason}`, {
      step: 'docker',
      details: plan.refused.map((r) => `${r.host}: ${r.reason}`),
      hint: plan.refused[0]!.hint,
    });
  }
}

export async function run(globals: GlobalOptions, _args: unknown[], flags: DeployFlags): Promise<number> {
  return runCommand('setup', globals, async (ctx) => {
    const wait = lockWaitMs(flags);
    const s = await sessionForCommand(ctx);
    try {
      const { version } = await resolveVersion({ flag: flags.version, env: ctx.env, cwd: s.loaded.baseDir });
      s.version = version;
      if (flags.dryRun) {
        await setupDryRun(s, version);
        return 0;
      }
      await prepareForSetup(s);
      s.events.log(`setup ${imageRef(s, version)}`);
      const interrupt = interruptSignal(s);
      try {
        await runDeploy(s, { version, action: 'setup', startedAt: performance.timeOrigin, ...(flags.message ? { message: flags.message } : {}), lockWaitMs: wait, signal: interrupt.signal });
      } finally {
        interrupt.dispose();
      }
      return 0;
    } finally {
      await s.close();
    }
  });
}
