// An image to build, as data: Dockerfile text, the files of its build context, build
// arguments. Its tag is derived from a hash of exactly those inputs.
import { Readable } from 'node:stream';
import { pack as tarPack } from 'tar-stream';
import { contentHash } from '../content-hash.js';

export type ContextEntry =
  | { kind: 'file'; path: string; content: Buffer | string; mode?: number }
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'symlink'; path: string; target: string };

export interface SmokeTest {
  entrypoint: string[];
  cmd: string[];
  /** The container's combined output must match, or the fresh build is rejected. */
  expectOutput: RegExp;
}

export interface ImageSpec {
  /** Short name: the image is tagged gangway/<name>:<hash12>. */
  name: string;
  dockerfile: string;
  context: ContextEntry[];
  buildArgs?: Record<string, string>;
  /** Inputs outside the context that change the result (a base image tag, a package list). */
  extraInputs?: Record<string, unknown>;
  /** Proves a fresh build runs before it is trusted (skipped when the tag is cached). */
  smokeTest?: SmokeTest;
}

export const IMAGE_REPOSITORY_PREFIX = 'gangway/';

/** Labels every gangway-built image carries so it can be listed and removed by label. */
export const IMAGE_LABEL = 'gangway.image';

export function imageHash(spec: ImageSpec): string {
  return contentHash({
    dockerfile: spec.dockerfile,
    context: spec.context.map((e) => (e.kind === 'file' ? { ...e, content: Buffer.from(e.content) } : e)),
    buildArgs: spec.buildArgs ?? {},
    extra: spec.extraInputs ?? {},
  });
}

export function imageTag(spec: ImageSpec): string {
  return `${IMAGE_REPOSITORY_PREFIX}${spec.name}:${imageHash(spec)}`;
}

/** Context entries for a file placed at `path` (parents are created by tar extraction). */
export const fileEntry = (path: string, content: Buffer | string, mode = 0o644): ContextEntry => ({ kind: 'file', path, content, mode });
export const dirEntry = (path: string, mode = 0o755): ContextEntry => ({ kind: 'dir', path, mode });
export const symlinkEntry = (path: string, target: string): ContextEntry => ({ kind: 'symlink', path, target });

// A fixed mtime keeps the tar bytes equal for equal inputs.
const FIXED_MTIME = new Date(0);

/** The build context as a tar stream: Dockerfile first, then the entries in order. */
export function packContext(spec: ImageSpec): Readable {
  const pack = tarPack();
  const add = (header: Parameters<typeof pack.entry>[0], body?: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      const full = { uid: 0, gid: 0, mtime: FIXED_MTIME, ...header };
      if (body) pack.entry(full, body, done);
      else pack.entry(full, done);
    });
  void (async () => {
    try {
      await add({ name: 'Dockerfile', mode: 0o644 }, Buffer.from(spec.dockerfile));
      for (const e of spec.context) {
        if (e.kind === 'file') await add({ name: e.path, mode: e.mode ?? 0o644 }, Buffer.from(e.content));
        else if (e.kind === 'dir') await add({ name: e.path, type: 'directory', mode: e.mode ?? 0o755 });
        else await add({ name: e.path, type: 'symlink', linkname: e.target, mode: 0o777 });
      }
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  return pack as unknown as Readable;
}
