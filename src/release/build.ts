// `gangway build`: what to ask the engine for (a pure request) and the one call that sends the
// context and streams the engine's output as log events.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { pack } from 'tar-fs';
import { buildImage as buildOnEngine } from '../docker/images.js';
import { DockerStreamError, progressError, progressText } from '../docker/progress.js';
import { configError, operationError } from '../errors.js';
import type { Events } from '../events/events.js';
import { canPruneFolders, isIgnored, parseDockerignore } from './dockerignore.js';
import type { BuildSettings } from './release-config.js';

export const VERSION_LABEL = 'org.opencontainers.image.version';
export const REVISION_LABEL = 'org.opencontainers.image.revision';
/** Name the Dockerfile gets inside the context when it lives outside the context folder. */
export const OUTSIDE_DOCKERFILE_NAME = '.gangway.Dockerfile';

export interface BuildRequest {
  context: string;
  /** Dockerfile path inside the context tar (slash-separated). */
  dockerfile: string;
  /** Absolute path of a Dockerfile outside the context, added to the tar as `dockerfile`. */
  outsideDockerfile?: string;
  tag: string;
  buildargs: Record<string, string>;
  target?: string;
  labels: Record<string, string>;
}

/** Pure: the engine build request for an image, version and commit. */
export function buildRequest(opts: { build: BuildSettings; image: string; version: string; revision?: string }): BuildRequest {
  const { build } = opts;
  const inside = relative(build.context, build.dockerfile);
  const outside = inside.startsWith('..') || inside === '' || /^[A-Za-z]:|^\//.test(inside);
  return {
    context: build.context,
    dockerfile: outside ? OUTSIDE_DOCKERFILE_NAME : inside.split(sep).join('/'),
    ...(outside ? { outsideDockerfile: build.dockerfile } : {}),
    tag: `${opts.image}:${opts.version}`,
    buildargs: { ...build.args },
    ...(build.target ? { target: build.target } : {}),
    labels: { [VERSION_LABEL]: opts.version, ...(opts.revision ? { [REVISION_LABEL]: opts.revision } : {}) },
  };
}

/** The context as a tar stream, without what .dockerignore leaves out (the Dockerfile always goes). */
export function contextTar(request: BuildRequest): Readable {
  const ignorePath = `${request.context}/.dockerignore`;
  const rules = existsSync(ignorePath) ? parseDockerignore(readFileSync(ignorePath, 'utf8')) : [];
  const prune = canPruneFolders(rules);
  const keep = new Set([request.dockerfile, '.dockerignore']);
  return pack(request.context, {
    ignore: (name) => {
      const rel = relative(request.context, name).split(sep).join('/');
      if (rel === '' || keep.has(rel)) return false;
      // With `!` lines a folder must be walked: something inside may be brought back.
      if (!prune && statSync(name).isDirectory()) return false;
      return isIgnored(rel, rules);
    },
    finalize: request.outsideDockerfile === undefined,
    ...(request.outsideDockerfile === undefined
      ? {}
      : {
          finish: (p) => {
            void readFile(request.outsideDockerfile!).then(
              (content) => { p.entry({ name: OUTSIDE_DOCKERFILE_NAME, mode: 0o644 }, content); p.finalize(); },
              (err: unknown) => p.destroy(err as Error),
            );
          },
        }),
  }) as unknown as Readable;
}

export interface BuildResult {
  imageId?: string;
  tag: string;
}

export async function buildImage(docker: Docker, request: BuildRequest, events: Events): Promise<BuildResult> {
  if (!existsSync(request.context)) throw configError(`build context ${request.context} does not exist`, { hint: 'check build.context in gangway.yml' });
  const dockerfilePath = request.outsideDockerfile ?? `${request.context}/${request.dockerfile}`;
  if (!existsSync(dockerfilePath)) throw configError(`Dockerfile ${dockerfilePath} does not exist`, { hint: 'check build.dockerfile in gangway.yml (relative to build.context)' });
  const recent: string[] = [];
  try {
    const built = await buildOnEngine(docker, contextTar(request), {
      t: request.tag,
      dockerfile: request.dockerfile,
      buildargs: request.buildargs,
      labels: request.labels,
      ...(request.target ? { target: request.target } : {}),
      rm: true,
      forcerm: true,
    }, (m) => {
      if (progressError(m) !== undefined) return;
      for (const text of progressText(m)) {
        recent.push(text);
        if (recent.length > 20) recent.shift();
        events.log(text, { step: 'build' });
      }
    });
    return { tag: request.tag, ...built };
  } catch (err) {
    if (err instanceof DockerStreamError) throw operationError(`building ${request.tag} failed: ${err.message}`, { step: 'build', details: recent.slice(-10) });
    throw err;
  }
}
