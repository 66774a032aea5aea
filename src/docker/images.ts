// Images on one engine: is it there, pull it, push it, build it. Every transfer reads its progress
// stream through followProgress, so a failure the engine reports inside the stream fails the call.
import type Docker from 'dockerode';
import { isNotFound } from './errors.js';
import { followProgress, type ProgressMessage } from './progress.js';

/**
 * A registry login as the engine takes it (base64 JSON in X-Registry-Auth). An empty object means
 * anonymous; the push endpoint wants the header even then.
 */
export interface EngineAuth {
  username?: string;
  password?: string;
  serveraddress?: string;
}

/** The image's id (its config digest) on this engine, undefined when the engine does not have it. */
export async function imageId(docker: Docker, ref: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(ref).inspect()).Id;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  return (await imageId(docker, ref)) !== undefined;
}

export interface PullOptions {
  auth?: EngineAuth;
  onMessage?: (m: ProgressMessage) => void;
  /**
   * Bounds the whole pull, including the wait for the engine's response headers (a registry that
   * accepts and never answers holds those back). Rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/** Pulls `ref`; rejects with Docker's words when the pull fails, before or inside the stream. */
export async function pullImage(docker: Docker, ref: string, opts: PullOptions = {}): Promise<ProgressMessage[]> {
  const { signal } = opts;
  const follow = { ...(opts.onMessage ? { onMessage: opts.onMessage } : {}), ...(signal ? { signal } : {}) };
  const pulling = (async () => {
    const stream = (await docker.pull(ref, {
      ...(opts.auth ? { authconfig: opts.auth } : {}),
      ...(signal ? { abortSignal: signal } : {}),
    })) as NodeJS.ReadableStream;
    return followProgress(stream, follow);
  })();
  if (!signal) return pulling;
  // Until the stream exists only the request can be aborted, and its rejection does not carry the
  // reason; racing the signal keeps the caller's words.
  let stopWatching = () => {};
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stopWatching = () => signal.removeEventListener('abort', onAbort);
  });
  try {
    return await Promise.race([pulling, aborted]);
  } finally {
    stopWatching();
    // The side that lost settles later (an abort error, or nothing); nobody awaits it.
    pulling.catch(() => undefined);
    aborted.catch(() => undefined);
  }
}

export interface PresentImage {
  id: string;
  /** False when the engine already had it. */
  pulled: boolean;
}

/** The image's id, pulled first when the engine does not have it. */
export async function pullIfMissing(docker: Docker, ref: string, opts: PullOptions = {}): Promise<PresentImage> {
  const present = await imageId(docker, ref);
  if (present) return { id: present, pulled: false };
  await pullImage(docker, ref, opts);
  return { id: await pulledImageId(docker, ref), pulled: true };
}

/** The id of an image a pull just reported done; an engine that then lacks it is a failure. */
export async function pulledImageId(docker: Docker, ref: string): Promise<string> {
  const id = await imageId(docker, ref);
  if (!id) throw new Error(`the engine reported ${ref} pulled but does not have it`);
  return id;
}

export interface PushOptions {
  auth?: EngineAuth;
  onMessage?: (m: ProgressMessage) => void;
}

/** Pushes `repository:tag`; resolves with the manifest digest the registry gave, when it gave one. */
export async function pushImage(docker: Docker, image: { repository: string; tag: string }, opts: PushOptions = {}): Promise<{ digest?: string }> {
  const stream = (await docker.getImage(image.repository).push({ tag: image.tag, authconfig: opts.auth ?? {} })) as NodeJS.ReadableStream;
  const messages = await followProgress(stream, opts.onMessage ? { onMessage: opts.onMessage } : {});
  const digest = messages.findLast((m) => m.aux?.Digest)?.aux?.Digest;
  return digest ? { digest } : {};
}

/**
 * Builds from a context (a tar stream, or files under a folder) with the caller's build options;
 * resolves with the built image's id when the engine names it.
 */
export async function buildImage(
  docker: Docker,
  context: NodeJS.ReadableStream | Docker.ImageBuildContext,
  options: Docker.ImageBuildOptions,
  onMessage?: (m: ProgressMessage) => void,
): Promise<{ imageId?: string }> {
  const stream = (await docker.buildImage(context, options)) as NodeJS.ReadableStream;
  const messages = await followProgress(stream, onMessage ? { onMessage } : {});
  const id = messages.findLast((m) => m.aux?.ID)?.aux?.ID;
  return id ? { imageId: id } : {};
}
