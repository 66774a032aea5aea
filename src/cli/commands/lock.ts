// `gangway lock status|release`: the deploy lock on the primary host.
import { connectAll, openSession, primaryHostOf } from '../../deploy/session.js';
import { describeLockHolder, lockStatus, releaseLock } from '../../state/lock.js';
import { runCommand, type GlobalOptions } from '../context.js';

export async function status(globals: GlobalOptions): Promise<number> {
  return runCommand('lock status', globals, async (ctx) => {
    const s = await openSession(ctx);
    try {
      const name = primaryHostOf(s);
      const host = (await connectAll(s, [name])).get(name)!;
      const lock = await lockStatus(host, s.loaded.config.service);
      s.events.result('lock', lock.held ? { held: true, ...(lock.details ?? {}) } : { held: false }, { host: name });
      s.events.log(lock.held ? describeLockHolder(lock.details) : 'free', { host: name });
      return 0;
    } finally {
      await s.close();
    }
  });
}

export async function release(globals: GlobalOptions): Promise<number> {
  return runCommand('lock release', globals, async (ctx) => {
    const s = await openSession(ctx);
    try {
      const name = primaryHostOf(s);
      const host = (await connectAll(s, [name])).get(name)!;
      const before = await lockStatus(host, s.loaded.config.service);
      await releaseLock(host, s.loaded.config.service);
      s.events.log(before.held ? `released the lock ${describeLockHolder(before.details)}` : 'the lock was free', { host: name });
      return 0;
    } finally {
      await s.close();
    }
  });
}
