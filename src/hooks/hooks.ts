// Hooks: executables in `.gangway/hooks/<name>` run on the machine that runs gangway, around
// deploys, builds and rollbacks, with GANGWAY_* variables describing the run. A missing or
// non-executable hook is skipped; a failing one stops the command before (pre-) or reports
// after (post-) the work.
import { spawn } from 'node:child_process';
import { access, constants, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GangwayError } from '../errors.js';
import type { Events } from '../events/events.js';

export const HOOK_NAMES = ['pre-build', 'post-build', 'pre-deploy', 'post-deploy', 'pre-rollback', 'post-rollback', 'pre-connect'] as const;
export type HookName = (typeof HOOK_NAMES)[number] | (string & {});

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

export function hookPath(projectDir: string, name: string): string {
  return join(projectDir, '.gangway', 'hooks', name);
}

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
  name: string;
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
