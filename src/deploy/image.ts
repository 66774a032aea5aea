// Getting `<image>:<version>` onto a host: pulled from the registry with the config's credentials,
// or found locally when there is no registry to pull from (the localhost demo).
import type Docker from 'dockerode';
import { imageId, pullImage } from '../docker/images.js';
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
  const timer = setTimeout(() => abort.abort(new Error(`the registry did not answer the pull within ${formatSeconds(timeoutMs)} (pull_timeout)`)), timeoutMs);
  try {
    await pullImage(docker, ref, { ...(opts.auth ? { auth: opts.auth } : {}), signal: abort.signal });
  } finally {
    clearTimeout(timer);
  }
}

const formatSeconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;
