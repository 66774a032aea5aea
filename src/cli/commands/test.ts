// `gangway test [--version V] [--image REF]`: start the app's image as the config describes it,
// on the local engine and a throwaway network, wait for its health, run every role's uptests
// exactly as a deploy would, and report each one. Exit 1 when any fails. What CI runs before
// `gangway release`.
import { LocalHost } from '../../hosts/local-host.js';
import { usageError } from '../../errors.js';
import { parseImageRef } from '../../registry/reference.js';
import { resolveVersion } from '../../release/version.js';
import { runAppTest } from '../../app-test/run.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { loadForCommand } from '../load.js';

interface TestFlags {
  version?: string;
  image?: string;
}

export async function run(globals: GlobalOptions, _args: unknown[], cmdOpts: Record<string, unknown>): Promise<number> {
  const flags = cmdOpts as TestFlags;
  return runCommand('test', globals, async (ctx) => {
    if (flags.image !== undefined && flags.version !== undefined) {
      throw usageError('pass --image or --version, not both', { hint: '--image names the whole reference; --version picks <config image>:<version>' });
    }
    const loaded = await loadForCommand(ctx);
    const cfg = loaded.config;
    let image: string;
    if (flags.image !== undefined) {
      parseImageRef(flags.image);
      image = flags.image.trim();
    } else {
      const resolved = await resolveVersion({ ...(flags.version !== undefined ? { flag: flags.version } : {}), env: ctx.env, cwd: loaded.baseDir });
      image = `${cfg.image}:${resolved.version}`;
    }
    const envSecret: Record<string, string> = {};
    for (const name of cfg.env.secret) envSecret[name] = loaded.secrets[name] ?? '';

    ctx.events.log(`test ${image}`);
    const outcome = await runAppTest({
      host: new LocalHost(),
      service: cfg.service,
      roles: loaded.roles,
      image,
      appPort: cfg.proxy.app_port,
      healthcheckPath: cfg.proxy.healthcheck.path,
      healthTimeoutMs: cfg.deploy_timeout,
      uptestsPath: cfg.uptests.path,
      uptestsTimeoutMs: cfg.uptests.timeout,
      uptestsParallel: cfg.uptests.parallel,
      envSecret,
      events: ctx.events,
    });
    for (const r of outcome.roles) ctx.events.log(`${r.message}`, { role: r.role, step: 'uptests', level: r.passed ? 'info' : 'error' });
    ctx.events.result('test', {
      image,
      runId: outcome.runId,
      passed: outcome.passed,
      roles: outcome.roles.map((r) => ({
        role: r.role,
        passed: r.passed,
        uptests: r.results.map((u) => ({ name: u.name, passed: u.passed, exitCode: u.exitCode, timedOut: u.timedOut, durationMs: u.durationMs })),
      })),
      skipped: outcome.skipped,
    });
    const failed = outcome.roles.flatMap((r) => r.results.filter((u) => !u.passed).map((u) => `${r.role}/${u.name}`));
    const total = outcome.roles.reduce((n, r) => n + r.results.length, 0);
    const exitCode = failed.length === 0 ? 0 : 1;
    ctx.events.emit({
      type: 'done',
      ok: exitCode === 0,
      command: 'test',
      message: exitCode === 0 ? `${image}: ${total} uptest${total === 1 ? '' : 's'} passed` : `${image}: ${failed.length} of ${total} uptests failed: ${failed.join(', ')}`,
      exitCode,
    });
    return exitCode;
  });
}
