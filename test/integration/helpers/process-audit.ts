// What gangway asked the hosts and this machine to run, recorded where it cannot be missed.
// Sampling `ps` misses a process that lives between two samples. Instead:
// - on this machine, the CLI runs under strace: every execve it or its children make stops until
//   strace has written it down (a seccomp filter makes only execve stop, so it runs at speed);
// - on a host, strace attaches to sshd and follows every session it forks, so each command sent
//   over SSH and everything that command starts is recorded;
// - on a host's engine, dockerd's debug log holds the JSON body of every request, and a container
//   or exec starts only from one (create or exec create: Cmd, Entrypoint, Healthcheck, Labels).
// Environments are not findings: strace prints only their count, and the engine's Env is dropped,
// because passing a secret in an environment is the design.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { SandboxInfo } from '../../../src/sandbox/types.js';
import { combinedLogText } from '../../../src/docker/logs.js';
import { onHost } from './deploy.js';

const docker = new Docker();

/** strace's options: follow forks, execve only, whole strings, no signal or exit noise. */
const TRACE_OPTIONS = ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '-s', '65536'];

const containerOf = (info: SandboxInfo, host: string) => info.hosts.find((h) => h.name === host)!.containerId;

function traceFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'gangway-process-audit-')), 'trace');
}

function execveLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('execve('));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The argv prefix that runs a local command under strace; read() gives its execve lines. */
export function localTracePrefix(): { prefix: string[]; read: () => string[] } {
  const out = traceFile();
  return { prefix: ['strace', ...TRACE_OPTIONS, '--seccomp-bpf', '-o', out, '--'], read: () => execveLines(out) };
}

export interface Recording {
  /** Ends the recording (the host carries on) and returns what it saw, one entry per start. */
  stop(): Promise<string[]>;
}

/** A recording whose stop runs once; a second call (a cleanup after the test's own) gets the same result. */
function once(stop: () => Promise<string[]>): Recording {
  let stopped: Promise<string[]> | undefined;
  return { stop: () => (stopped ??= stop()) };
}

/** Outer-namespace pids of a host's sshd processes (the listener and any open session). */
async function sshdPids(containerId: string): Promise<number[]> {
  const top = (await docker.getContainer(containerId).top({ ps_args: '-eo pid,comm' })) as { Titles: string[]; Processes: string[][] };
  const pid = top.Titles.indexOf('PID');
  const comm = top.Titles.indexOf('COMMAND');
  return top.Processes.filter((p) => p[comm] === 'sshd').map((p) => Number(p[pid]));
}

/** Every execve under a host's sshd from now until stop(): the SSH sessions and their children. */
export async function traceSshSessions(info: SandboxInfo, host: string): Promise<Recording> {
  const pids = await sshdPids(containerOf(info, host));
  if (pids.length === 0) throw new Error(`no sshd runs on ${host}`);
  const out = traceFile();
  const child = spawn('strace', [...TRACE_OPTIONS, '-o', out, ...pids.flatMap((p) => ['-p', String(p)])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  // With -qq strace says nothing when attached; a moment, then "still alive", is what it gives.
  await new Promise((r) => setTimeout(r, 500));
  if (child.exitCode !== null) throw new Error(`strace on ${host}'s sshd exited ${child.exitCode}: ${stderr}`);
  return once(async () => {
    await stopStrace(child);
    return execveLines(out);
  });
}

async function stopStrace(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  child.kill('SIGINT'); // detaches from every tracee; they carry on untouched
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await closed;
  clearTimeout(timer);
}

const setEngineDebug = (info: SandboxInfo, host: string, on: boolean) =>
  onHost(info, host, `echo '{"debug": ${on}}' > /etc/docker/daemon.json && kill -HUP "$(cat /var/run/docker.pid)"`);

/** dockerd's own log lines on a host (it logs to the host container's stderr) since a time. */
async function engineLog(info: SandboxInfo, host: string, sinceS: number): Promise<string[]> {
  const buf = (await docker.getContainer(containerOf(info, host)).logs({ stdout: true, stderr: true, since: sinceS })) as Buffer;
  return combinedLogText(buf).split('\n');
}

/** logrus's msg="..." value, unquoted (Go quotes printable text as JSON does). */
function logMessage(line: string): string | undefined {
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(line);
  if (!m) return undefined;
  try {
    return JSON.parse(`"${m[1]}"`) as string;
  } catch {
    return m[1]; // a Go escape JSON lacks (\x..): still the text, still searchable
  }
}

/**
 * Every message of a host's engine from now until stop(), as dockerd logged it: with debug on,
 * "Calling <method> <path>" for each request and "form data: <body>" for each JSON body (Env
 * included; a tar upload's body is not logged). engineStarts() picks the starts. Debug logging is
 * switched on and off again with a reload (SIGHUP), which keeps the engine and its containers
 * running.
 */
export async function recordEngineLog(info: SandboxInfo, host: string): Promise<Recording> {
  const since = Math.floor(Date.now() / 1000) - 1;
  await setEngineDebug(info, host, true);
  const deadline = Date.now() + 15_000;
  // The reload is asynchronous: wait until a request of our own shows up in the debug log.
  while (!(await engineLog(info, host, since)).some((l) => l.includes('level=debug') && l.includes('Calling GET'))) {
    if (Date.now() > deadline) throw new Error(`dockerd on ${host} did not switch to debug logging`);
    await onHost(info, host, 'docker version >/dev/null');
    await new Promise((r) => setTimeout(r, 200));
  }
  return once(async () => {
    await setEngineDebug(info, host, false);
    const lines = await engineLog(info, host, since);
    await onHost(info, host, 'rm -f /etc/docker/daemon.json');
    return lines.map(logMessage).filter((m): m is string => m !== undefined);
  });
}

/**
 * The create and exec-create requests among an engine's messages (recordEngineLog), as
 * "<request line> <body without Env>": each "Calling POST .../create" with the "form data" after it.
 */
export function engineStarts(messages: string[]): string[] {
  const starts: string[] = [];
  let call: string | undefined;
  for (const msg of messages) {
    if (msg.startsWith('Calling ')) {
      call = /^Calling POST \S*\/(containers\/create|containers\/[^/]+\/exec)\b/.test(msg) ? msg : undefined;
    } else if (call && msg.startsWith('form data: ')) {
      const { Env: _env, ...body } = JSON.parse(msg.slice('form data: '.length)) as Record<string, unknown>;
      starts.push(`${call} ${JSON.stringify(body)}`);
      call = undefined;
    }
  }
  return starts;
}
