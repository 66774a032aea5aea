// `gangway exec CMD...`: run a command in a new container of the live version (same image, env
// and network as the app), or with --reuse inside the running container. Without -i on every
// host of the role, its output as events; with -i an interactive session on one host, the local
// terminal passed through raw (docs/console.md).
import { constants } from 'node:os';
import { PassThrough } from 'node:stream';
import { findContainers } from '../../app/container.js';
import { execSourceOf, runInLiveContainer, runInNewContainer, type ExecOutcome, type ExecStreams } from '../../app/exec.js';
import { execContainerOptions, execHosts, OUTPUT_ONLY, type ExecMode } from '../../app/exec-plan.js';
import { usageError, operationError } from '../../errors.js';
import { APP_NETWORK } from '../../fleet/prepare.js';
import { primaryRoleOf, type Session } from '../../fleet/session.js';
import type { ResolvedRole } from '../../config/resolve.js';
import type { Host } from '../../hosts/host.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { sessionForCommand } from '../load.js';
import { reachableHosts } from '../../fleet/connect.js';
import { localTerminal } from '../terminal.js';

interface ExecFlags {
  reuse?: boolean;
  role?: string;
  host?: string;
  interactive?: boolean;
}

export async function run(globals: GlobalOptions, args: unknown[], flags: ExecFlags): Promise<number> {
  const cmd = args[0] as string[];
  return runCommand('exec', globals, async (ctx) => {
    // The session's bytes are the output: one JSON event per line cannot hold them.
    if (flags.interactive && globals.json) throw usageError('exec -i passes the terminal through raw; --json does not apply to it');
    const s = await sessionForCommand(ctx);
    try {
      const role = flags.role ? s.loaded.roles.find((r) => r.name === flags.role) : primaryRoleOf(s);
      if (!role) throw usageError(`no role ${flags.role}`);
      const names = execHosts(role, flags.host, flags.interactive === true);
      return flags.interactive ? await interactive(s, role, names[0]!, cmd, flags) : await outputOnly(s, role, names, cmd, flags);
    } finally {
      await s.close();
    }
  });
}

/** The role's newest running container on a host: what exec copies or enters. */
async function liveContainer(s: Session, host: Host, role: ResolvedRole): Promise<string> {
  const live = (await findContainers(host, s.deployment, role.name)).filter((c) => c.running).sort((a, b) => b.deployedAt.getTime() - a.deployedAt.getTime())[0];
  if (!live) throw operationError(`no running ${role.name} container on ${host.name}`, { host: host.name, role: role.name, step: 'exec' });
  return live.name;
}

/** One run of the command on one host, in a new container or (--reuse) the live one. */
async function execOnHost(s: Session, host: Host, role: ResolvedRole, cmd: string[], reuse: boolean | undefined, io: ExecStreams): Promise<ExecOutcome> {
  const live = await liveContainer(s, host, role);
  if (reuse) return runInLiveContainer(host, live, cmd, io);
  const options = execContainerOptions({
    source: await execSourceOf(host, live),
    deployment: s.deployment,
    role: role.name,
    cmd,
    network: APP_NETWORK,
    mode: io.mode,
    now: new Date(),
  });
  return runInNewContainer(host, options, io);
}

/** Today's exec: every host of the role in turn, output as events named by host and role. */
async function outputOnly(s: Session, role: ResolvedRole, names: string[], cmd: string[], flags: ExecFlags): Promise<number> {
  const { hosts, unreachable } = await reachableHosts(s, names);
  let worst = unreachable > 0 ? 1 : 0;
  for (const host of hosts) {
    const where = { host: host.name, role: role.name };
    const out = new PassThrough();
    out.setEncoding('utf8');
    let buffered = '';
    out.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const p of parts) s.events.log(p, where);
    });
    const outcome = await execOnHost(s, host, role, cmd, flags.reuse, { mode: OUTPUT_ONLY, stdout: out, stderr: out });
    const code = 'code' in outcome ? outcome.code : 1;
    if (buffered) s.events.log(buffered, where);
    if (code !== 0) s.events.log(`exit ${code}`, { level: 'error', ...where });
    worst = Math.max(worst, code === 0 ? 0 : 1);
  }
  return worst;
}

/** Signals that end an interactive session (the remote program with it); the exit code is 128+n. */
const ENDING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * -i: one session on one host. With a terminal on stdin the remote side gets a PTY that follows
 * the local size and every key as bytes; without one, stdin is piped and its end closes the
 * program's stdin. The remote exit code is gangway's.
 */
async function interactive(s: Session, role: ResolvedRole, name: string, cmd: string[], flags: ExecFlags): Promise<number> {
  const terminal = localTerminal();
  const size = terminal.tty ? terminal.size() : undefined;
  const mode: ExecMode = { stdin: true, tty: terminal.tty, ...(size ? { size } : {}) };
  const controller = new AbortController();
  let signalled: (typeof ENDING_SIGNALS)[number] | undefined;
  const onSignal = (sig: (typeof ENDING_SIGNALS)[number]) => () => {
    if (signalled) {
      // A second signal: the cleanup is taking too long for the user; leave now.
      terminal.restore();
      process.exit(128 + constants.signals[signalled]);
    }
    signalled = sig;
    controller.abort();
  };
  const handlers = ENDING_SIGNALS.map((sig) => [sig, onSignal(sig)] as const);
  for (const [sig, handler] of handlers) process.on(sig, handler);
  let stopResizes = () => {};
  try {
    const { hosts } = await reachableHosts(s, [name]);
    const host = hosts[0];
    if (!host) return 1;
    if (controller.signal.aborted) return 128 + constants.signals[signalled!];
    terminal.enterRaw();
    const outcome = await execOnHost(s, host, role, cmd, flags.reuse, {
      mode,
      input: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      signal: controller.signal,
      onRunning: (resize) => {
        const size = terminal.size();
        if (size) void resize(size);
        stopResizes = terminal.onResize((next) => void resize(next));
      },
    });
    return 'code' in outcome ? outcome.code : 128 + constants.signals[signalled!];
  } finally {
    stopResizes();
    terminal.restore();
    for (const [sig, handler] of handlers) process.off(sig, handler);
  }
}
