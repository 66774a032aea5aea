// Hooks: executables in `.gangway/hooks/<name>` run on the machine that runs gangway, around
// connecting, building and deploying, with GANGWAY_* variables describing the run (the contract
// is docs/hooks.md). A missing or non-executable hook is skipped. A failing pre- hook, or
// post-build, stops the command before the work it gates; a failing post-deploy comes after the
// work is done and live, so it is reported as a warning (runAfterHook), never as a failure.
import { spawn } from 'node:child_process';
import { access, constants, readdir, stat } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { GangwayError, messageOf } from '../errors.js';
import type { Events } from '../events/events.js';

/** Kamal's names, for the points gangway has: what users of Kamal already know. */
export const HOOK_NAMES = ['pre-connect', 'pre-build', 'post-build', 'pre-deploy', 'post-deploy'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

export interface HookContext {
  service: string;
  version: string;
  hosts: string[];
  roles: string[];
  /** Who runs gangway (user@machine). */
  performer: string;
  /** deploy, rollback, build... */
  command: string;
  destination?: string;
  /** Extra variables (e.g. GANGWAY_RUNTIME for post-deploy). */
  extra?: Record<string, string>;
}

/** Who runs gangway (user@machine): GANGWAY_PERFORMER, and the user of an audit line. */
export function performer(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `unknown@${hostname()}`;
  }
}

export function hookPath(projectDir: string, name: string): string {
  return join(hookDir(projectDir), name);
}

const hookDir = (projectDir: string): string => join(projectDir, '.gangway', 'hooks');

/** Pure: the GANGWAY_* variables a hook sees. */
export function hookEnv(ctx: HookContext): Record<string, string> {
  return {
    GANGWAY_SERVICE: ctx.service,
    GANGWAY_VERSION: ctx.version,
    GANGWAY_HOSTS: ctx.hosts.join(','),
    GANGWAY_ROLES: ctx.roles.join(','),
    GANGWAY_PERFORMER: ctx.performer,
    GANGWAY_COMMAND: ctx.command,
    GANGWAY_DESTINATION: ctx.destination ?? '',
    ...ctx.extra,
  };
}

export interface RunHookOptions {
  projectDir: string;
  timeoutMs?: number;
  events?: Events;
  /** The environment the hook inherits; defaults to this process's. */
  baseEnv?: NodeJS.ProcessEnv;
}

export interface HookResult {
  name: HookName;
  ran: boolean;
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  output: string;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs the hook if it exists and is executable; throws GangwayError('operation') when it fails. */
export async function runHook(name: HookName, ctx: HookContext, opts: RunHookOptions): Promise<HookResult> {
  const path = hookPath(opts.projectDir, name);
  if (!(await isExecutableFile(path))) return { name, ran: false, exitCode: null, timedOut: false, durationMs: 0, output: '' };
  const step = `hook ${name}`;
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000;
  const started = Date.now();
  opts.events?.step(step, 'start');
  const result = await new Promise<HookResult>((resolve) => {
    const child = spawn(path, [], {
      cwd: opts.projectDir,
      env: { ...(opts.baseEnv ?? process.env), ...hookEnv(ctx) },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group, so a timeout kills what the hook started too.
      detached: true,
    });
    let output = '';
    let timedOut = false;
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      for (const line of text.split('\n')) if (line.trim()) opts.events?.log(line, { step });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
    }, timeoutMs);
    const done = (exitCode: number | null) => {
      clearTimeout(timer);
      resolve({ name, ran: true, exitCode, timedOut, durationMs: Date.now() - started, output });
    };
    child.on('error', (err) => { output += `${err.message}\n`; done(null); });
    child.on('close', (code) => done(code));
  });
  if (result.exitCode === 0 && !result.timedOut) {
    opts.events?.step(step, 'done', { durationMs: result.durationMs });
    return result;
  }
  const why = result.timedOut ? `did not finish within ${timeoutMs} ms` : `failed with exit code ${result.exitCode}`;
  opts.events?.step(step, 'fail', { message: why, durationMs: result.durationMs });
  throw new GangwayError('operation', `hook ${name} ${why}`, {
    step,
    details: result.output.split('\n').filter((l) => l.trim() !== '').slice(-40),
    hint: `see ${path}`,
  });
}

/**
 * Runs a hook whose work is already done (post-deploy): a failure cannot undo it, so it is a
 * warning naming the hook, with its output, and the command still succeeds. Returns the
 * failure's message, for the command's closing line; undefined when it passed or did not run.
 */
export async function runAfterHook(name: HookName, ctx: HookContext, opts: RunHookOptions): Promise<string | undefined> {
  try {
    await runHook(name, ctx, opts);
    return undefined;
  } catch (err) {
    const why = messageOf(err);
    opts.events?.log(`${why}; what it follows is done and stays done (exit code 0)`, { level: 'warn', step: `hook ${name}` });
    const output = err instanceof GangwayError ? err.details : [];
    if (output.length > 0) opts.events?.log(`output of hook ${name}:`, { level: 'warn', step: `hook ${name}` });
    for (const line of output) opts.events?.log(`  ${line}`, { level: 'warn', step: `hook ${name}` });
    return why;
  }
}

/**
 * Executables in .gangway/hooks that gangway never runs: a typo (predeploy), a name of another
 * tool's (Kamal's pre-app-boot) or gangway's old pre-rollback/post-rollback, which rollback
 * replaced by pre-deploy/post-deploy. Samples (*.sample) are not hooks.
 */
export async function unknownHooks(projectDir: string): Promise<string[]> {
  const names = await readdir(hookDir(projectDir)).catch(() => [] as string[]);
  const known = new Set<string>(HOOK_NAMES);
  const candidates = names.filter((n) => !known.has(n) && !n.endsWith('.sample') && !n.startsWith('.')).sort();
  const executable = await Promise.all(candidates.map((n) => isExecutableFile(join(hookDir(projectDir), n))));
  return candidates.filter((_, i) => executable[i]);
}

/** Warns once per command about executables in .gangway/hooks that will never run. */
export async function warnUnknownHooks(projectDir: string, events: Events): Promise<void> {
  for (const name of await unknownHooks(projectDir)) {
    events.log(`.gangway/hooks/${name} is not a hook gangway runs (it runs ${HOOK_NAMES.join(', ')}; rollback runs pre-deploy and post-deploy)`, { level: 'warn', step: 'hooks' });
  }
}
