// `gangway hosts check`: connect to every host at once and report, per host, the SSH round trip,
// the Docker version over that same connection, free disk, and optionally a container run.
import { expandPath } from '../../config/resolve.js';
import { usageError } from '../../errors.js';
import { checkHost, describeCheck, type HostCheckResult } from '../../hosts/check.js';
import { HostPool, sshConnectOptions } from '../../hosts/pool.js';
import { hookContextFor, preConnectOnce } from '../../fleet/session.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { loadForCommand } from '../load.js';

const PROBE_CONTAINER_TIMEOUT_MS = 60_000;

export async function run(globals: GlobalOptions, _args: unknown[], cmdOpts: Record<string, unknown>): Promise<number> {
  return runCommand('hosts check', globals, async (ctx) => {
    const image = typeof cmdOpts.image === 'string' ? cmdOpts.image : undefined;
    if (cmdOpts.runContainer && !image) throw usageError('--run-container needs --image <ref>', { hint: 'e.g. gangway hosts check --run-container --image registry:5000/busybox:latest' });
    const loaded = await loadForCommand(ctx);
    const ssh = sshConnectOptions(loaded.config.ssh, (p) => expandPath(p, loaded.baseDir));
    const beforeConnect = preConnectOnce(loaded, ctx.events, () => hookContextFor(loaded, ctx.command, undefined));
    const pool = new HostPool(loaded.hostTargets, ssh, { events: ctx.events, env: ctx.env, beforeConnect });
    // pre-connect before any host is contacted; its failure is the command's, not one per host.
    await pool.ready();
    const checkOpts = cmdOpts.runContainer && image ? { runContainer: { image, cmd: ['true'], timeoutMs: PROBE_CONTAINER_TIMEOUT_MS } } : {};
    try {
      const results = await Promise.all(
        pool.names().map(async (name): Promise<HostCheckResult> => {
          ctx.events.step('check', 'start', { host: name });
          const start = performance.now();
          let result: HostCheckResult;
          try {
            const host = await pool.get(name);
            const connectMs = Math.round(performance.now() - start);
            result = { ...(await checkHost(host, checkOpts)), connectMs };
          } catch (err) {
            const e = err as { message?: string; hint?: string };
            result = { host: name, transport: loaded.hostTargets.find((t) => t.name === name)?.local ? 'local' : 'ssh', ok: false, error: e.message ?? String(err), ...(e.hint ? { hint: e.hint } : {}) };
          }
          ctx.events.result('hosts-check', { ...result }, { host: name });
          ctx.events.step('check', result.ok ? 'done' : 'fail', { host: name, message: describeCheck(result), durationMs: performance.now() - start });
          if (result.hint) ctx.events.log(`hint: ${result.hint}`, { level: 'warn', host: name });
          return result;
        }),
      );
      const failed = results.filter((r) => !r.ok);
      const ok = failed.length === 0;
      const message = ok ? `${results.length} host(s) ok` : `${failed.length} of ${results.length} host(s) failed: ${failed.map((r) => r.host).join(', ')}`;
      ctx.events.emit({ type: 'done', ok, command: 'hosts check', message, exitCode: ok ? 0 : 1 });
      return ok ? 0 : 1;
    } finally {
      await pool.closeAll();
    }
  });
}
