// `gangway remove [--role R] --yes`: takes the service (and -d destination) off its hosts.
import { runRemove } from '../../deploy/remove.js';
import { usageError } from '../../errors.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { sessionForCommand } from '../load.js';
import { lockWaitMs } from './deploy-common.js';

export interface RemoveFlags {
  role?: string;
  lockWait?: string;
  yes?: boolean;
}

export async function run(globals: GlobalOptions, _args: unknown[], flags: RemoveFlags): Promise<number> {
  return runCommand('remove', globals, async (ctx) => {
    // Nothing is connected or read before this: a forgotten --yes touches nothing.
    if (!flags.yes) throw usageError('remove stops and deletes the service\'s containers on every host it runs on; pass --yes to confirm');
    const wait = lockWaitMs(flags);
    const s = await sessionForCommand(ctx);
    try {
      await runRemove(s, { ...(flags.role !== undefined ? { role: flags.role } : {}), lockWaitMs: wait });
      return 0;
    } finally {
      await s.close();
    }
  });
}
