// Where a command starts: the CLI loads the config from its flags and hands the loaded config
// down; nothing below src/cli reads a command context.
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { openSession, type Session } from '../fleet/session.js';
import type { CommandContext } from './context.js';

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

/** The command's session over the config its flags name. */
export async function sessionForCommand(ctx: CommandContext): Promise<Session> {
  return openSession(await loadForCommand(ctx), ctx);
}
