// `hosts check` on one connected host: SSH round trip, Docker version over the same connection,
// free disk where Docker keeps its data, and optionally a throwaway container end to end.
import type Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { pullIfMissing } from '../docker/images.js';
import { GangwayError, messageOf, operationError } from '../errors.js';
import type { Host, HostStats } from './host.js';
import { createContainer } from '../docker/containers.js';

export const PROBE_LABEL = 'gangway.probe';

export interface ContainerProbeResult {
  image: string;
  pulled: boolean;
  exitCode: number;
  durationMs: number;
}

export interface HostCheckResult {
  host: string;
  transport: Host['kind'];
  ok: boolean;
  connectMs?: number;
  /** A trivial command, timed from channel open to exit. */
  execRoundTripMs?: number;
  dockerVersion?: string;
  dockerApiVersion?: string;
  /** The first Docker API call (opens the first docker stream). */
  dockerFirstCallMs?: number;
  /** A later call, on a kept-alive stream. */
  dockerLaterCallMs?: number;
  dockerRootDir?: string;
  diskFreeBytes?: number;
  container?: ContainerProbeResult;
  error?: string;
  hint?: string;
  stats?: HostStats;
}

/** `'it'\''s'`: one argument for a POSIX shell whatever it contains. */
export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** POSIX output (-P) in 1K blocks, so the columns are the same on every df. */
export function diskFreeCommand(path: string): string {
  return `df -Pk ${shellQuote(path)}`;
}

/** Available bytes from `df -Pk` output (header + one line), or undefined if unreadable. */
export function parseDfAvailableBytes(stdout: string): number | undefined {
  const line = stdout.trim().split('\n')[1];
  const available = line?.trim().split(/\s+/)[3];
  if (!available || !/^\d+$/.test(available)) return undefined;
  return Number(available) * 1024;
}

/** The throwaway container: no network, labelled, running a command that exits at once. */
export function probeContainerSpec(image: string, cmd: string[], suffix: string): Docker.ContainerCreateOptions {
  return {
    name: `gangway-probe-${suffix}`,
    Image: image,
    Cmd: cmd,
    Labels: { [PROBE_LABEL]: 'hosts-check' },
    HostConfig: { NetworkMode: 'none' },
  };
}

export interface CheckOptions {
  /** Also run a container from this image (pulled when missing). */
  runContainer?: { image: string; cmd: string[]; timeoutMs: number };
  execTimeoutMs?: number;
}

const time = async <T>(work: () => Promise<T>): Promise<[T, number]> => {
  const start = performance.now();
  const value = await work();
  return [value, Math.round((performance.now() - start) * 10) / 10];
};

/** Runs every check on a connected host; a failing step ends the checks and names itself. */
export async function checkHost(host: Host, opts: CheckOptions = {}): Promise<HostCheckResult> {
  const result: HostCheckResult = { host: host.name, transport: host.kind, ok: false };
  let step = 'exec';
  try {
    const [probe, execMs] = await time(() => host.exec('true', { timeoutMs: opts.execTimeoutMs ?? 10_000 }));
    if (probe.code !== 0) {
      const why = [probe.signal, probe.stderr.trim()].filter(Boolean).join(': ');
      throw operationError(`a trivial command failed on ${host.name} (exit ${probe.code}${why ? `, ${why}` : ''})`, { host: host.name, step });
    }
    result.execRoundTripMs = execMs;

    step = 'docker';
    const docker = await host.docker();
    const [version, firstMs] = await time(() => docker.version());
    result.dockerVersion = version.Version;
    result.dockerApiVersion = version.ApiVersion;
    result.dockerFirstCallMs = firstMs;
    const [info, laterMs] = await time(() => docker.info() as Promise<{ DockerRootDir?: string }>);
    result.dockerLaterCallMs = laterMs;
    result.dockerRootDir = info.DockerRootDir ?? '/';

    step = 'disk';
    const df = await host.exec(diskFreeCommand(result.dockerRootDir), { timeoutMs: opts.execTimeoutMs ?? 10_000 });
    result.diskFreeBytes = df.code === 0 ? parseDfAvailableBytes(df.stdout) : undefined;
    if (result.diskFreeBytes === undefined) throw operationError(`cannot read free disk of ${result.dockerRootDir}: ${df.stderr.trim() || df.stdout.trim()}`, { host: host.name, step });

    if (opts.runContainer) {
      step = 'container';
      result.container = await runProbeContainer(docker, opts.runContainer);
    }
    result.ok = true;
  } catch (err) {
    result.error = messageOf(err);
    if (err instanceof GangwayError && err.hint) result.hint = err.hint;
    if (!(err instanceof GangwayError)) result.error = `${step}: ${result.error}`;
  }
  result.stats = host.stats();
  return result;
}

async function runProbeContainer(docker: Docker, spec: { image: string; cmd: string[]; timeoutMs: number }): Promise<ContainerProbeResult> {
  const start = performance.now();
  // A pull the engine fails inside its stream fails the check (it used to pass for a success).
  const { pulled } = await pullIfMissing(docker, spec.image);
  const container = await createContainer(docker, probeContainerSpec(spec.image, spec.cmd, randomBytes(4).toString('hex')));
  try {
    await container.start();
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      container.wait() as Promise<{ StatusCode: number }>,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`probe container did not exit within ${spec.timeoutMs}ms`)), spec.timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    if (waited.StatusCode !== 0) throw new Error(`probe container ${spec.cmd.join(' ')} exited with ${waited.StatusCode}`);
    return { image: spec.image, pulled, exitCode: waited.StatusCode, durationMs: Math.round(performance.now() - start) };
  } finally {
    await container.remove({ force: true }).catch(() => {});
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value < 10 && i > 0 ? value.toFixed(1) : Math.round(value)} ${units[i]}`;
}

/** What a host's result says, for the line after "check ok" / "check FAILED". */
export function describeCheck(r: HostCheckResult): string {
  if (!r.ok) return r.error ?? 'unknown error';
  const parts = [
    r.transport === 'ssh' ? `ssh connect ${r.connectMs ?? '?'}ms, exec ${r.execRoundTripMs}ms` : `local, exec ${r.execRoundTripMs}ms`,
    `docker ${r.dockerVersion} (api ${r.dockerFirstCallMs}ms first, ${r.dockerLaterCallMs}ms later)`,
    `${formatBytes(r.diskFreeBytes ?? 0)} free on ${r.dockerRootDir}`,
  ];
  if (r.container) parts.push(`container ${r.container.image} ok${r.container.pulled ? ' (pulled)' : ''} in ${r.container.durationMs}ms`);
  return parts.join(' · ');
}
