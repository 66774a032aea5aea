// What every command gets: parsed global flags, an event bus wired to the chosen renderer,
// and one place that turns errors into exit codes and readable messages.
import { Events } from '../events/events.js';
import { makeRenderer, pickRenderer } from '../events/renderers.js';
import { GangwayError, exitCodeFor, messageOf } from '../errors.js';

export interface GlobalOptions {
  config: string;
  destination?: string;
  json?: boolean;
  verbose?: boolean;
}

export interface CommandContext {
  /** The command's name as typed (deploy, lock status...): hooks see it as GANGWAY_COMMAND. */
  command: string;
  opts: GlobalOptions;
  events: Events;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** Runs one command body and returns the process exit code; never throws. */
export async function runCommand(
  command: string,
  opts: GlobalOptions,
  body: (ctx: CommandContext) => Promise<number | void>,
): Promise<number> {
  const events = new Events();
  const renderer = makeRenderer(pickRenderer({ json: opts.json, out: process.stdout }), {
    out: process.stdout,
    err: process.stderr,
    verbose: opts.verbose,
  });
  events.on(renderer);
  const ctx: CommandContext = { command, opts, events, cwd: process.cwd(), env: process.env };
  try {
    const code = (await body(ctx)) ?? 0;
    return code;
  } catch (err) {
    return reportError(command, err, events, opts);
  }
}

export function reportError(command: string, err: unknown, events: Events, opts: GlobalOptions): number {
  const gerr = err instanceof GangwayError ? err : undefined;
  const exitCode = gerr ? exitCodeFor(gerr.code) : 1;
  const place = gerr ? [gerr.host, gerr.role, gerr.step].filter(Boolean).join(' ') : '';
  const message = `${place ? `[${place}] ` : ''}${messageOf(err)}`;
  // A single config problem is both the message and its only detail: print it once. Detail
  // lines name their own host where several hosts failed, so they carry no prefix here.
  for (const line of gerr?.details ?? []) {
    if (line !== gerr?.message) events.log(line, { level: 'error', step: gerr?.step });
  }
  if (gerr?.hint) events.log(`hint: ${gerr.hint}`, { level: 'warn' });
  if (opts.verbose && err instanceof Error && err.stack) events.log(err.stack, { level: 'error' });
  else if (!gerr && err instanceof Error) events.log('(run with --verbose for the stack trace)', { level: 'warn' });
  events.emit({ type: 'done', ok: false, command, message: `error: ${message}`, exitCode });
  return exitCode;
}
