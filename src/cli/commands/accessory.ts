// `gangway accessory boot|reboot|remove|logs NAME`: the config's accessories on their hosts.
// NAME may be `all` (except for logs). Deploys never touch accessories; these commands are the
// only way they change after setup.
import { usageError } from '../../errors.js';
import type { Session } from '../../fleet/session.js';
import { ensureAppNetwork } from '../../fleet/prepare.js';
import type { Host } from '../../hosts/host.js';
import { accessoryHosts } from '../../provision/accessory-spec.js';
import { accessoryContainer, bootAccessory, rebootAccessory, removeAccessory } from '../../provision/accessory.js';
import { accessoryContext, SETUP_CONNECT } from '../../provision/setup.js';
import { connectHosts } from '../../fleet/connect.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { sessionForCommand } from '../load.js';
import { emitLogLine, logQueryOf, type LogFlags } from '../log-flags.js';
import { readLogLines } from '../../docker/log-lines.js';

interface AccessoryFlags extends LogFlags {
  host?: string;
}

type Action = 'boot' | 'reboot' | 'remove' | 'logs';

function pickAccessories(s: Session, name: string, action: Action): string[] {
  const known = Object.keys(s.loaded.config.accessories);
  if (name === 'all' && action !== 'logs') {
    if (known.length === 0) throw usageError('the config has no accessories');
    return known;
  }
  if (!known.includes(name)) throw usageError(`no accessory ${name} in the config`, { hint: known.length ? `accessories: ${known.join(', ')}` : 'add one under accessories: in gangway.yml' });
  return [name];
}

async function each(action: Action, globals: GlobalOptions, args: unknown[], flags: AccessoryFlags, body: (s: Session, host: Host, name: string) => Promise<void>): Promise<number> {
  return runCommand(`accessory ${action}`, globals, async (ctx) => {
    const s = await sessionForCommand(ctx);
    try {
      const names = pickAccessories(s, String(args[0] ?? ''), action);
      const pairs = names.flatMap((name) => accessoryHosts(s.loaded.config.accessories[name]!).filter((h) => !flags.host || h === flags.host).map((host) => ({ name, host })));
      if (pairs.length === 0) throw usageError(`${names.join(', ')} does not run on ${flags.host}`);
      const set = await connectHosts(s, [...new Set(pairs.map((p) => p.host))], SETUP_CONNECT);
      try {
        // One host after another keeps the output of logs readable; accessories are few.
        for (const p of pairs) await body(s, set.hosts.get(p.host)!, p.name);
      } finally {
        await set.close();
      }
      ctx.events.emit({ type: 'done', ok: true, command: `accessory ${action}`, message: `${action} ${names.join(', ')}: done`, exitCode: 0 });
      return 0;
    } finally {
      await s.close();
    }
  });
}

export const boot = (globals: GlobalOptions, args: unknown[], flags: AccessoryFlags): Promise<number> =>
  each('boot', globals, args, flags, async (s, host, name) => {
    await ensureAppNetwork(host);
    await bootAccessory(host, accessoryContext(s), name);
  });

export const reboot = (globals: GlobalOptions, args: unknown[], flags: AccessoryFlags): Promise<number> =>
  each('reboot', globals, args, flags, async (s, host, name) => {
    await ensureAppNetwork(host);
    await rebootAccessory(host, accessoryContext(s), name);
  });

export const remove = (globals: GlobalOptions, args: unknown[], flags: AccessoryFlags): Promise<number> =>
  each('remove', globals, args, flags, async (s, host, name) => {
    await removeAccessory(host, accessoryContext(s), name);
  });

export const logs = (globals: GlobalOptions, args: unknown[], flags: AccessoryFlags): Promise<number> => {
  // Checked before the config is read or any host connected: a bad flag is exit 2 at once.
  let query: ReturnType<typeof logQueryOf>;
  try {
    query = logQueryOf(flags);
  } catch (err) {
    return runCommand('accessory logs', globals, () => { throw err; });
  }
  return each('logs', globals, args, flags, async (s, host, name) => {
    const container = await accessoryContainer(host, accessoryContext(s), name);
    const source = { host: host.name, container: container.name, step: `accessory ${name}` };
    for (const line of await readLogLines(await host.docker(), container.id, query)) emitLogLine(s.events, source, line);
  });
};
