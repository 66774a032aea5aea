// `gangway setup`: make every host ready (Docker installed and running, the app network, the
// accessories), then deploy as `gangway deploy` does. Safe to run again: each step is idempotent.
import { runDeploy } from '../../deploy/run.js';
import { imageRef, openSession } from '../../deploy/session.js';
import { prepareForSetup } from '../../provision/setup.js';
import { resolveVersion } from '../../release/version.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { dryRun, interruptSignal, lockWaitMs, type DeployFlags } from './deploy-common.js';

export async function run(globals: GlobalOptions, _args: unknown[], flags: DeployFlags): Promise<number> {
  return runCommand('setup', globals, async (ctx) => {
    const wait = lockWaitMs(flags);
    const s = await openSession(ctx);
    try {
      const { version } = await resolveVersion({ flag: flags.version, env: ctx.env, cwd: s.loaded.baseDir });
      if (flags.dryRun) {
        await dryRun(s, version);
        return 0;
      }
      await prepareForSetup(s);
      s.events.log(`setup ${imageRef(s, version)}`);
      const interrupt = interruptSignal(s);
      try {
        await runDeploy(s, { version, action: 'setup', ...(flags.message ? { message: flags.message } : {}), lockWaitMs: wait, signal: interrupt.signal });
      } finally {
        interrupt.dispose();
      }
      return 0;
    } finally {
      await s.close();
    }
  });
}
