// `gangway lock status|release`: the deploy lock on the primary host.
import { connectAll } from '../../fleet/connect.js';
import { primaryHostOf, type Session } from '../../fleet/session.js';
import type { Host } from '../../hosts/host.js';
import { describeLockHolder, holderState, lockStatus, releaseLock } from '../../state/lock.js';
import { runCommand, type CommandContext, type GlobalOptions } from '../context.js';
import { sessionForCommand } from '../load.js';

/** Opens the session, connects to the primary host only, runs `body`, closes. */
async function onPrimary(ctx: CommandContext, body: (s: Session, host: Host) => Promise<void>): Promise<number> {
  const s = await sessionForCommand(ctx);
  try {
    const name = primaryHostOf(s);
    await body(s, (await connectAll(s, [name])).get(name)!);
    return 0;
  } finally {
    await s.close();
  }
}

export async function status(globals: GlobalOptions): Promise<number> {
  return runCommand('lock status', globals, (ctx) =>
    onPrimary(ctx, async (s, host) => {
      const lock = await lockStatus(host, s.deployment);
      const state = lock.held ? holderState(lock.details) : undefined;
      s.events.result('lock', lock.held ? { held: true, ...(lock.details ?? {}), ...(state !== 'elsewhere' ? { holderRunning: state === 'running' } : {}) } : { held: false }, { host: host.name });
      s.events.log(lock.held ? describeLockHolder(lock.details, new Date(), state) : 'free', { host: host.name });
    }),
  );
}

export async function release(globals: GlobalOptions): Promise<number> {
  return runCommand('lock release', globals, (ctx) =>
    onPrimary(ctx, async (s, host) => {
      const before = await lockStatus(host, s.deployment);
      await releaseLock(host, s.deployment);
      s.events.log(before.held ? `released the lock ${describeLockHolder(before.details, new Date(), holderState(before.details))}` : 'the lock was free', { host: host.name });
    }),
  );
}
