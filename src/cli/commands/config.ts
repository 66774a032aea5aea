// `gangway config`: load, validate and print the resolved config with secrets redacted.
import { stringify } from 'yaml';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import { redactConfig } from '../../config/redact.js';
import { runCommand, type CommandContext, type GlobalOptions } from '../context.js';

/**
 * Loads the config for any command and logs its warnings. The bus gets the secrets before the
 * config is validated, so even a config error that quotes a value is printed redacted.
 */
export async function loadForCommand(ctx: CommandContext): Promise<LoadedConfig> {
  const loaded = await loadConfig({
    file: ctx.opts.config,
    ...(ctx.opts.destination !== undefined ? { destination: ctx.opts.destination } : {}),
    cwd: ctx.cwd,
    env: ctx.env,
    redactor: ctx.events,
  });
  for (const warning of loaded.warnings) ctx.events.log(warning, { level: 'warn' });
  return loaded;
}

export async function run(globals: GlobalOptions, _args: unknown[], _cmdOpts: Record<string, unknown>): Promise<number> {
  return runCommand('config', globals, async (ctx) => {
    const loaded = await loadForCommand(ctx);
    const config = redactConfig(loaded);
    if (ctx.opts.json) {
      ctx.events.result('config', {
        config,
        files: loaded.files,
        roles: loaded.roles,
        hostTargets: loaded.hostTargets,
      });
      ctx.events.emit({ type: 'done', ok: true, command: 'config', message: 'config is valid', exitCode: 0 });
    } else {
      // The YAML alone on stdout, so `gangway config > resolved.yml` stays usable.
      ctx.events.log(stringify(config).trimEnd());
    }
    return 0;
  });
}
