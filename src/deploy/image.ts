// Getting `<image>:<version>` onto a host: pulled from the registry with the config's credentials,
// or found locally when there is no registry to pull from (the localhost demo).
import type Docker from 'dockerode';
import type { Config } from '../config/schema.js';
import { messageOf, operationError } from '../errors.js';
import type { Host } from '../hosts/host.js';

export interface PullAuth {
  username?: string;
  password?: string;
  serveraddress: string;
}

/** Engine API auth for the config's registry; undefined when no credentials are configured. */
export function registryAuth(config: Config): PullAuth | undefined {
  const r = config.registry;
  if (!r || (!r.username && !r.password)) return undefined;
  return { serveraddress: r.server, ...(r.username ? { username: r.username } : {}), ...(r.password ? { password: r.password } : {}) };
}

async function imageId(docker: Docker, ref: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(ref).inspect()).Id;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

/** The config's `pull_timeout` default: a large image over a slow link, not a hung registry. */
export const DEFAULT_PULL_TIMEOUT_MS = 300_000;

export interface EnsureImageOptions {
  /** Pull even when present, so the registry decides what the tag means now. */
  alwaysPull: boolean;
  auth?: PullAuth;
  timeoutMs?: number;
}

/** Returns the image id on the host; fails with the registry's words when it cannot be had. */
export async function ensureImage(host: Host, ref: string, opts: EnsureImageOptions): Promise<{ id: string; pulled: boolean }> {
  const docker = await host.docker();
  const present = await imageId(docker, ref);
  if (present && !opts.alwaysPull) return { id: present, pulled: false };
  try {
    await pull(docker, ref, opts);
  } catch (err) {
    if (present) return { id: present, pulled: false };
    throw operationError(`cannot pull ${ref} on ${host.name}: ${messageOf(err).trim()}`, {
      host: host.name,
      step: 'pull',
      hint: /not found|manifest unknown|does not exist/i.test(messageOf(err))
        ? 'is that version released? (`gangway release`)'
        : /pull_timeout/.test(messageOf(err))
          ? 'the registry accepted the connection but did not answer: check it is healthy, or raise pull_timeout for a slow link'
          : 'check the registry is reachable from the host and the credentials',
      cause: err,
    });
  }
  const id = await imageId(docker, ref);
  if (!id) throw operationError(`pulled ${ref} on ${host.name} but the engine does not have it`, { host: host.name, step: 'pull' });
  return { id, pulled: true };
}

async function pull(docker: Docker, ref: string, opts: EnsureImageOptions): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PULL_TIMEOUT_MS;
  // One bound over the whole pull: a registry that accepts and never answers keeps the engine
  // from even sending its response headers, so a timer armed only once the stream exists never starts.
  const abort = new AbortController();
  let stream: NodeJS.ReadableStream | undefined;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
      reject(new Error(`the registry did not answer the pull within ${formatSeconds(timeoutMs)} (pull_timeout)`));
    }, timeoutMs);
  });
  const pulled = (async () => {
    stream = (await docker.pull(ref, { ...(opts.auth ? { authconfig: opts.auth } : {}), abortSignal: abort.signal })) as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream!, (err: Error | null, output: Array<{ error?: string }>) => {
        const failed = err ?? output?.find((o) => o.error);
        if (failed) reject(err ?? new Error((failed as { error: string }).error));
        else resolve();
      });
    });
  })();
  try {
    await Promise.race([pulled, timedOut]);
  } finally {
    clearTimeout(timer);
    // The losing side settles later (an abort error, or nothing): nobody awaits it.
    pulled.catch(() => undefined);
    timedOut.catch(() => undefined);
  }
}

const formatSeconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;
