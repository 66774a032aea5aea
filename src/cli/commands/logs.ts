// `gangway logs [-f] [--role R] [--host H] [--since D] [-n N] [--grep RE [-i]]`: the live
// containers' logs, each line prefixed with its host and role (an NDJSON event with --json).
import { findContainers } from '../../app/container.js';
import { usageError } from '../../errors.js';
import { reachableHosts } from '../../fleet/connect.js';
import type Docker from 'dockerode';
import { engineTime, followLogLines, readLogLines, type LogLine } from '../../docker/log-lines.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { emitLogLine, logQueryOf, type LogFlags, type LogSource } from '../log-flags.js';
import { sessionForCommand } from '../load.js';

interface Flags extends LogFlags {
  follow?: boolean;
  role?: string;
  host?: string;
}

interface Source extends LogSource {
  docker: Docker;
}

export async function run(globals: GlobalOptions, _args: unknown[], flags: Flags): Promise<number> {
  return runCommand('logs', globals, async (ctx) => {
    const query = logQueryOf(flags);
    const s = await sessionForCommand(ctx);
    const emit = ({ docker: _docker, ...where }: Source, line: LogLine) => emitLogLine(s.events, where, line);
    try {
      const roles = s.loaded.roles.filter((r) => !flags.role || r.name === flags.role);
      if (roles.length === 0) throw usageError(`no role ${flags.role}`, { hint: `roles: ${s.loaded.roles.map((r) => r.name).join(', ')}` });
      const names = [...new Set(roles.flatMap((r) => r.hosts))].filter((h) => !flags.host || h === flags.host);
      if (names.length === 0) throw usageError(`host ${flags.host} has none of those roles`);
      const { hosts, unreachable } = await reachableHosts(s, names);

      // Sources in config order (host, then role), so output without -f reads the same each time.
      const perHost = await Promise.all(
        hosts.map(async (host) => {
          const docker = await host.docker();
          const perRole = await Promise.all(
            roles.filter((r) => r.hosts.includes(host.name)).map(async (role) => {
              const live = (await findContainers(host, s.deployment, role.name)).filter((c) => c.running);
              const several = live.length > 1;
              return live.map((c): Source => ({ host: host.name, role: role.name, container: c.name, ...(several ? { instance: c.version } : {}), docker }));
            }),
          );
          return perRole.flat();
        }),
      );
      const sources = perHost.flat();

      // With -f the backlog ends and the stream starts at one moment, so no line is lost or
      // shown twice, whatever the hosts' clocks say.
      const cut = flags.follow ? engineTime(Date.now()) : undefined;
      const backlogs = await Promise.all(sources.map((src) => readLogLines(src.docker, src.container, query, cut)));
      sources.forEach((src, i) => { for (const line of backlogs[i]!) emit(src, line); });
      if (flags.follow) {
        const stop = new AbortController();
        const onInt = () => stop.abort();
        process.once('SIGINT', onInt);
        process.once('SIGTERM', onInt);
        try {
          const since = query.since && Number(query.since) > Number(cut) ? query.since : cut;
          await Promise.all(sources.map((src) => followLogLines(src.docker, src.container, { since, ...(query.grep ? { grep: query.grep } : {}) }, (line) => emit(src, line), stop.signal)));
        } finally {
          process.off('SIGINT', onInt);
          process.off('SIGTERM', onInt);
        }
      }
      return unreachable > 0 ? 1 : 0;
    } finally {
      await s.close();
    }
  });
}
