// gangway/hello: the example app (examples/hello) built on the local busybox image, one tag
// per version + variant + content.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileEntry, type ContextEntry, type ImageSpec } from '../image-spec.js';
import { packageRoot } from '../package-root.js';

export type HelloVariant = 'ok' | 'broken' | 'uptest-fails' | 'hangs' | 'uptest-hangs' | 'uptest-slow' | 'seeds-data' | 'needs-seed' | 'format-2' | 'errors' | 'slow' | 'slow-tail';

/** Only these go into the build context, so editing the example's gangway.yml rebuilds nothing. */
const CONTEXT_DIRS = ['app', 'www', 'uptests'];

export interface HelloSource {
  dockerfile: string;
  files: ContextEntry[];
}

export interface HelloBuild {
  version: string;
  variant: HelloVariant;
  /** Base image with busybox sh, httpd and wget: gangway/busybox:<hash> here, busybox:1.36 elsewhere. */
  base: string;
}

export function helloImage(source: HelloSource, build: HelloBuild): ImageSpec {
  return {
    name: 'hello',
    dockerfile: source.dockerfile,
    context: source.files,
    buildArgs: { BASE: build.base, VERSION: build.version, VARIANT: build.variant },
  };
}

export const helloSourceDir = (): string => join(packageRoot(), 'examples', 'hello');

export async function loadHelloSource(dir = helloSourceDir()): Promise<HelloSource> {
  const files: ContextEntry[] = [];
  const walk = async (sub: string): Promise<void> => {
    const entries = await readdir(join(dir, sub), { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const rel = join(sub, e.name);
      if (e.isDirectory()) await walk(rel);
      else if (e.isFile()) {
        const full = join(dir, rel);
        const { mode } = await stat(full);
        files.push(fileEntry(relative(dir, full), await readFile(full), mode & 0o777));
      }
    }
  };
  for (const sub of CONTEXT_DIRS) await walk(sub);
  return { dockerfile: await readFile(join(dir, 'Dockerfile'), 'utf8'), files };
}
