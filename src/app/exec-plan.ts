// What `gangway exec` creates and where it runs, decided before anything is touched: the hosts a
// command goes to, and the Engine API bodies of the throwaway container and of an exec in the
// running one. Pure; src/app/exec.ts executes these.
import type Docker from 'dockerode';
import { usageError } from '../errors.js';
import type { Deployment } from '../state/deployment.js';
import { deploymentLabels, LABEL } from '../state/labels.js';

/** Value of gangway.managed on exec's throwaway containers (`docker ps --filter label=gangway.managed=exec`). */
export const MANAGED_EXEC = 'exec';

/**
 * Docker's attach always watches stdin for a detach sequence (ctrl-p,ctrl-q unless told
 * otherwise) and holds back a byte that starts it until the next one arrives: with the default,
 * Ctrl-P (a shell's or irb's "previous line") would wait for another key. A sequence nobody
 * types keeps every key flowing at once. Detaching would leave the remote program running, so it
 * is not offered.
 */
export const DETACH_KEYS = 'ctrl-^,ctrl-@,ctrl-^,ctrl-@,ctrl-^';

export interface TerminalSize {
  rows: number;
  columns: number;
}

/** How an exec talks to its program: today's output-only run, or -i with or without a PTY. */
export interface ExecMode {
  /** Attach local stdin (-i). */
  stdin: boolean;
  /** Allocate a PTY: -i with a terminal on stdin. Output is then one raw stream. */
  tty: boolean;
  /** The local terminal's size at start (tty only). */
  size?: TerminalSize;
}

export const OUTPUT_ONLY: ExecMode = { stdin: false, tty: false };

export interface ExecRole {
  name: string;
  hosts: string[];
}

/**
 * The hosts an exec runs on: every host of the role, or the one --host names. An interactive
 * session has one terminal, so it needs exactly one host: a role on several hosts without
 * --host is a usage error that lists them (before any connection).
 */
export function execHosts(role: ExecRole, host: string | undefined, interactive: boolean): string[] {
  const names = role.hosts.filter((h) => host === undefined || h === host);
  if (names.length === 0) throw usageError(`host ${host} is not in role ${role.name} (its hosts: ${role.hosts.join(', ')})`, { role: role.name, step: 'exec' });
  if (interactive && names.length > 1) {
    throw usageError(`exec -i opens one console: role ${role.name} runs on ${names.join(', ')}; choose one with --host`, {
      role: role.name,
      step: 'exec',
      hint: `gangway exec -i --host ${names[0]} ...`,
    });
  }
  return names;
}

/** The live container an exec copies (from its inspect): image, env and mounts. */
export interface ExecSource {
  name: string;
  /** Image id, so the copy runs exactly what the live container runs. */
  image: string;
  env: string[];
  binds?: string[];
}

export interface ExecContainerInput {
  source: ExecSource;
  deployment: Deployment;
  role: string;
  cmd: string[];
  network: string;
  mode: ExecMode;
  now: Date;
}

/** `<live name>-exec-<base36 time>`: beside its source in `docker ps`, unique per millisecond. */
export function execContainerName(source: string, now: Date): string {
  return `${source}-exec-${now.getTime().toString(36)}`;
}

/** Engine API size order: rows first. */
const consoleSize = (size: TerminalSize): [number, number] => [size.rows, size.columns];

/**
 * The create options of the throwaway container: the live container's image, env (secrets
 * included, so they travel in the create body only) and binds, on the app network. Labelled
 * gangway.managed=exec with the deployment and role, so what a killed gangway leaves is found by
 * label. An interactive one also removes itself when its program ends (AutoRemove), which covers
 * a gangway that could not (connection dropped, SIGKILL) once the program exits.
 */
export function execContainerOptions(input: ExecContainerInput): Docker.ContainerCreateOptions {
  const { source, mode } = input;
  const interactive = mode.stdin
    ? {
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        OpenStdin: true,
        // Docker closes the program's stdin when the attached client goes (without a PTY).
        StdinOnce: true,
        Tty: mode.tty,
      }
    : {};
  return {
    name: execContainerName(source.name, input.now),
    Image: source.image,
    Cmd: input.cmd,
    Env: source.env,
    Labels: { ...deploymentLabels(input.deployment), [LABEL.role]: input.role, [LABEL.managed]: MANAGED_EXEC },
    ...interactive,
    HostConfig: {
      NetworkMode: input.network,
      ...(source.binds && source.binds.length > 0 ? { Binds: source.binds } : {}),
      ...(mode.stdin ? { AutoRemove: true } : {}),
      // Engines from API 1.42 start the PTY at this size; older ones ignore it and get a resize.
      ...(mode.tty && mode.size ? { ConsoleSize: consoleSize(mode.size) } : {}),
    },
  } as Docker.ContainerCreateOptions;
}

/** The exec create body of --reuse: the command in the running container. */
export function liveExecOptions(cmd: string[], mode: ExecMode): Docker.ExecCreateOptions {
  return {
    Cmd: cmd,
    AttachStdout: true,
    AttachStderr: true,
    ...(mode.stdin ? { AttachStdin: true, Tty: mode.tty, DetachKeys: DETACH_KEYS } : {}),
    ...(mode.tty && mode.size ? { ConsoleSize: consoleSize(mode.size) } : {}),
  } as Docker.ExecCreateOptions;
}

/** Rows and columns a terminal reports, or undefined when it reports none (0 is not a size). */
export function terminalSize(rows: number | undefined, columns: number | undefined): TerminalSize | undefined {
  if (!rows || !columns || rows < 1 || columns < 1) return undefined;
  return { rows, columns };
}
