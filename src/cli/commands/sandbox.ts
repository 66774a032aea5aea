// `gangway sandbox up|down|status`: throwaway Docker-in-Docker hosts and a registry on the
// local engine. GANGWAY_SANDBOX_ID picks a sandbox other than "default".
import { relative, resolve } from 'node:path';
import { usageError } from '../../errors.js';
import { runCommand, type CommandContext, type GlobalOptions } from '../context.js';
import { DEFAULT_SANDBOX_ID, SANDBOX_FILES, sandboxDown, sandboxStatus, sandboxUp } from '../../sandbox/index.js';
import { formatMs } from '../../events/format.js';

const DEFAULT_OUT_DIR = '.gangway/sandbox';

const sandboxId = (ctx: CommandContext): string | undefined => ctx.env.GANGWAY_SANDBOX_ID || undefined;

/** Paths in hints are shortest from where the user stands. */
const shown = (ctx: CommandContext, path: string): string => {
  const rel = relative(ctx.cwd, path);
  return rel && !rel.startsWith('..') ? rel : path;
};

export function up(globals: GlobalOptions, _args: unknown[], cmdOpts: Record<string, unknown>): Promise<number> {
  return runCommand('sandbox up', globals, async (ctx) => {
    const hostsText = String(cmdOpts.hosts ?? '3');
    const hosts = Number(hostsText);
    if (!/^\d+$/.test(hostsText)) throw usageError(`--hosts must be a whole number, not "${hostsText}"`);
    const outDir = resolve(ctx.cwd, String(cmdOpts.out ?? DEFAULT_OUT_DIR));
    const info = await sandboxUp({ id: sandboxId(ctx) ?? DEFAULT_SANDBOX_ID, hosts, outDir }, ctx.events);

    const { events } = ctx;
    for (const h of info.hosts) events.log(`ssh 127.0.0.1:${h.sshPort}  http 127.0.0.1:${h.httpPort}`, { host: h.name });
    events.log(`registry ${info.registry.name} (127.0.0.1:${info.registry.localPort}); images: ${Object.values(info.images).join(' ')}`);
    const key = shown(ctx, info.keyPath);
    const knownHosts = shown(ctx, info.knownHostsPath);
    const first = info.hosts[0]!;
    events.log('use it:');
    events.log(`  ssh -i ${key} -o UserKnownHostsFile=${knownHosts} -p ${first.sshPort} root@127.0.0.1`);
    if (info.configPath) events.log(`  gangway hosts check -c ${shown(ctx, info.configPath)}    (examples/hello on these hosts)`);
    events.log(`  or merge ${shown(ctx, info.configFragmentPath)} (hosts:, ssh:) into your gangway.yml`);
    events.log('  gangway sandbox down    (removes it all)');
    events.emit({
      type: 'done',
      ok: true,
      command: 'sandbox up',
      message: `sandbox ${info.id} is up: ${info.hosts.length} hosts in ${formatMs(info.timings.totalMs)} (${shown(ctx, resolve(outDir, SANDBOX_FILES.info))})`,
      exitCode: 0,
    });
    return 0;
  });
}

export function down(globals: GlobalOptions, _args: unknown[], cmdOpts: Record<string, unknown>): Promise<number> {
  return runCommand('sandbox down', globals, async (ctx) => {
    // The same sandbox `up` made, unless --all: another id is someone else's (a bench, a parallel run).
    const removed = await sandboxDown({ id: cmdOpts.all ? undefined : sandboxId(ctx) ?? DEFAULT_SANDBOX_ID }, ctx.events);
    ctx.events.result('sandbox-down', { ...removed });
    ctx.events.emit({ type: 'done', ok: true, command: 'sandbox down', message: 'no sandbox resources left', exitCode: 0 });
    return 0;
  });
}

export function status(globals: GlobalOptions): Promise<number> {
  return runCommand('sandbox status', globals, async (ctx) => {
    const { rows, info } = await sandboxStatus({ id: sandboxId(ctx), outDir: resolve(ctx.cwd, DEFAULT_OUT_DIR) });
    for (const row of rows) {
      ctx.events.result('sandbox-container', { ...row });
      ctx.events.log(`${row.name}  ${row.state}  ${row.ports.join(' ') || '-'}  (${row.status})`, { host: row.host ?? row.role });
    }
    if (info) ctx.events.log(`sandbox.json: ${info.hosts.length} hosts, created ${info.createdAt ?? '?'}, config ${info.configPath ?? info.configFragmentPath}`);
    const running = rows.filter((r) => r.state === 'running').length;
    const message = rows.length === 0 ? 'no sandbox is running' : `${running} of ${rows.length} sandbox containers running`;
    ctx.events.emit({ type: 'done', ok: true, command: 'sandbox status', message, exitCode: 0 });
    return 0;
  });
}
