// `gangway logs [-f] [--role R] [--host H]`: the live containers' logs, each line prefixed with
// its host and role.
import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import { containerLogsTail, findContainers } from '../../app/container.js';
import { usageError } from '../../errors.js';
import type { Session } from '../../fleet/session.js';
import type { Host } from '../../hosts/host.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { sessionForCommand } from '../load.js';
import { reachableHosts } from '../../fleet/connect.js';

interface LogsFlags {
  follow?: boolean;
  role?: string;
  host?: string;
  lines?: string;
}

export async function run(globals: GlobalOptions, _args: unknown[], flags: LogsFlags): Promise<number> {
  return runCommand('logs', globals, async (ctx) => {
    const s = await sessionForCommand(ctx);
    try {
      const roles = s.loaded.roles.filter((r) => !flags.role || r.name === flags.role);
      if (roles.length === 0) throw usageError(`no role ${flags.role}`, { hint: `roles: ${s.loaded.roles.map((r) => r.name).join(', ')}` });
      const names = [...new Set(roles.flatMap((r) => r.hosts))].filter((h) => !flags.host || h === flags.host);
      if (names.length === 0) throw usageError(`host ${flags.host} has none of those roles`);
      const lines = Number(flags.lines ?? 100);
      const { hosts, unreachable } = await reachableHosts(s, names);
      await Promise.all(
        hosts.flatMap((host) =>
          roles.filter((r) => r.hosts.includes(host.name)).map(async (role) => {
            const live = (await findContainers(host, s.deployment, role.name)).filter((c) => c.running);
            for (const c of live) {
              if (flags.follow) await follow(s, host, role.name, c.name, lines);
              else for (const l of await containerLogsTail(host, c.name, lines)) s.events.log(l, { host: host.name, role: role.name });
            }
          }),
        ),
      );
      return unreachable > 0 ? 1 : 0;
    } finally {
      await s.close();
    }
  });
}

/** Streams until the container stops or the user interrupts. */
async function follow(s: Session, host: Host, role: string, container: string, tail: number): Promise<void> {
  const docker = await host.docker();
  const stream = (await docker.getContainer(container).logs({ follow: true, stdout: true, stderr: true, tail })) as NodeJS.ReadableStream;
  const out = new PassThrough();
  docker.modem.demuxStream(stream, out, out);
  const rl = createInterface({ input: out });
  rl.on('line', (l) => s.events.log(l, { host: host.name, role }));
  await new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('error', resolve);
    process.once('SIGINT', () => { (stream as unknown as { destroy(): void }).destroy(); resolve(); });
  });
}
