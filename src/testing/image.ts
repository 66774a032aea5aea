// Images for test containers: an existing tag, or a build from a Dockerfile directory cached
// by content hash. Never a blind pull: pulling happens only when asked and the image is missing.
import { lstat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type Docker from 'dockerode';
import { buildImage, imageExists, pullImage } from '../docker/images.js';
import { DockerStreamError, progressText, type ProgressMessage } from '../docker/progress.js';
import { GangwayError, messageOf, operationError } from '../errors.js';
import type { Events } from './events.js';
import { hashBuildContext, listContextFiles } from './context-hash.js';
import type { ImageSource } from './definitions.js';
import { IMAGE_CACHE_LABEL, TESTING_LABEL } from './labels.js';

export const IMAGE_REPOSITORY_PREFIX = 'gangway-testing';

// Two definitions built from the same directory in one process share one build.
const buildsInFlight = new Map<string, Promise<string>>();

export async function resolveImage(docker: Docker, source: ImageSource, definitionName: string, events?: Events): Promise<string> {
  if (typeof source === 'string') return requireTag(docker, source, 'never', definitionName, events);
  if ('tag' in source) return requireTag(docker, source.tag, source.pull ?? 'never', definitionName, events);
  return buildCached(docker, source, definitionName, events);
}

// Tags this process has already found (or built) on an engine. Later setups skip the image
// inspect, a round trip that sat on every container's start-to-ready path. A tag removed since
// makes the create fail with 404; the caller then forgets it and resolves again.
const presentTags = new Set<string>();

function engineKey(docker: Docker): string {
  const m = docker.modem as { socketPath?: unknown; host?: string; port?: string | number };
  return typeof m.socketPath === 'string' ? m.socketPath : m.host ? `${m.host}:${m.port ?? ''}` : 'default-socket';
}

const presentKey = (docker: Docker, tag: string) => `${engineKey(docker)}|${tag}`;

/** The create said "no such image": the next resolve checks (and builds or pulls) again. */
export function forgetImage(docker: Docker, tag: string): void {
  presentTags.delete(presentKey(docker, tag));
}

async function requireTag(docker: Docker, tag: string, pull: 'never' | 'if-missing', definitionName: string, events?: Events): Promise<string> {
  if (presentTags.has(presentKey(docker, tag))) return tag;
  if (await imageExists(docker, tag)) {
    presentTags.add(presentKey(docker, tag));
    return tag;
  }
  if (pull === 'never') {
    throw operationError(`image ${tag} for container ${definitionName} is not on this engine`, {
      step: 'testing.image',
      hint: "build it first, use { build: dir }, or allow a pull with { tag, pull: 'if-missing' }",
    });
  }
  events?.step('testing.image.pull', 'start', { message: tag });
  try {
    await withOutputTail((onMessage) => pullImage(docker, tag, { onMessage }));
  } catch (err) {
    throw operationError(`pulling ${tag} for container ${definitionName} failed: ${messageOf(err)}`, { step: 'testing.image', cause: err });
  }
  events?.step('testing.image.pull', 'done', { message: tag });
  presentTags.add(presentKey(docker, tag));
  return tag;
}

type BuildSource = Extract<ImageSource, { build: string }>;

// Hashing reads every byte of the context; within one process it is redone only when a file's
// size or mtime changed (the same test suite sets up the same images over and over).
const hashMemo = new Map<string, { signature: string; hash: string }>();

async function statSignature(contextDir: string, files: readonly string[]): Promise<string> {
  const stats = await Promise.all(files.map((f) => lstat(join(contextDir, f))));
  return stats.map((s, i) => `${files[i]}:${s.size}:${s.mtimeMs}:${s.mode}`).join('|');
}

/** gangway-testing/<name>:<hash of the build inputs> */
export async function cachedImageTag(source: BuildSource, definitionName: string): Promise<{ tag: string; files: string[]; contextDir: string; dockerfile: string }> {
  const contextDir = resolve(source.build);
  const dockerfile = source.dockerfile ?? 'Dockerfile';
  const buildArgs = source.buildArgs ?? {};
  const files = await listContextFiles(contextDir);
  const memoKey = JSON.stringify([contextDir, dockerfile, buildArgs]);
  const signature = await statSignature(contextDir, files);
  let hash = hashMemo.get(memoKey)?.signature === signature ? hashMemo.get(memoKey)!.hash : undefined;
  if (!hash) {
    hash = await hashBuildContext({ contextDir, dockerfile, buildArgs }, files);
    hashMemo.set(memoKey, { signature, hash });
  }
  const name = (source.name ?? definitionName ?? basename(contextDir)).toLowerCase().replace(/[^a-z0-9_.-]/g, '-');
  return { tag: `${IMAGE_REPOSITORY_PREFIX}/${name}:${hash}`, files, contextDir, dockerfile };
}

async function buildCached(docker: Docker, source: BuildSource, definitionName: string, events?: Events): Promise<string> {
  const { tag, files, contextDir, dockerfile } = await cachedImageTag(source, definitionName);
  if (presentTags.has(presentKey(docker, tag))) return tag;
  const inFlight = buildsInFlight.get(tag);
  if (inFlight) return inFlight;
  const build = (async () => {
    if (await imageExists(docker, tag)) return tag;
    events?.step('testing.image.build', 'start', { message: tag });
    const startedAt = Date.now();
    try {
      await withOutputTail((onMessage) => buildImage(docker, { context: contextDir, src: files }, {
        t: tag,
        dockerfile,
        buildargs: { ...(source.buildArgs ?? {}) },
        labels: { [TESTING_LABEL]: '1', [IMAGE_CACHE_LABEL]: '1' },
        rm: true,
        forcerm: true,
      }, onMessage));
    } catch (err) {
      throw err instanceof GangwayError
        ? err
        : operationError(`building ${tag} from ${contextDir} failed: ${messageOf(err)}`, { step: 'testing.image', cause: err });
    }
    events?.step('testing.image.build', 'done', { message: tag, durationMs: Date.now() - startedAt });
    return tag;
  })();
  buildsInFlight.set(tag, build);
  try {
    const built = await build;
    presentTags.add(presentKey(docker, tag));
    return built;
  } finally {
    buildsInFlight.delete(tag);
  }
}

/** Runs a build or pull; a failure the engine reports in its stream carries the last output lines. */
async function withOutputTail<T>(run: (onMessage: (m: ProgressMessage) => void) => Promise<T>): Promise<T> {
  const output: string[] = [];
  try {
    return await run((m) => output.push(...progressText(m)));
  } catch (err) {
    if (err instanceof DockerStreamError) throw operationError(err.message, { step: 'testing.image', details: output.slice(-30) });
    throw err;
  }
}
