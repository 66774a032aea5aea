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
      hint: /not found|manifest unknown|does not exist/i.test(messageOf(err)) ? 'is that version released? (`gangway release`)' : 'check the registry is reachable from the host and the credentials',
      cause: err,
    });
  }
  const id = await imageId(docker, ref);
  if (!id) throw operationError(`pulled ${ref} on ${host.name} but the engine does not have it`, { host: host.name, step: 'pull' });
  return { id, pulled: true };
}

async function pull(docker: Docker, ref: string, opts: EnsureImageOptions): Promise<void> {
  const stream = (await docker.pull(ref, opts.auth ? { authconfig: opts.auth } : {})) as NodeJS.ReadableStream;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      reject(new Error(`no answer from the registry within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs ?? 300_000);
    docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }>) => {
      clearTimeout(timer);
      const failed = err ?? output?.find((o) => o.error);
      if (failed) reject(err ?? new Error((failed as { error: string }).error));
      else resolve();
    });
  });
}
