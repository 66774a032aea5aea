// A debootstrapped Debian root filesystem (a sandbox host's, or Debian 13's for its HAProxy):
// debootstrap once, keep the tarball on disk (keyed by suite + package list + mirror), import it
// as gangway/<flavour>-rootfs:<key>.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { messageOf, operationError } from '../errors.js';
import type { Events } from '../events/events.js';
import { imageExists } from '../docker/images.js';
import { followProgress } from '../docker/progress.js';
import { contentHash } from '../content-hash.js';
import { IMAGE_LABEL, IMAGE_REPOSITORY_PREFIX } from './image-spec.js';

/** What a flavour's rootfs holds; the mirror it comes from is this machine's (debian-mirror.ts). */
export interface RootfsRecipe {
  /** Names the flavour in tags and file names: docker-host, bare-host. */
  flavour: string;
  suite: string;
  variant: string;
  packages: string[];
}

export interface RootfsSpec extends RootfsRecipe {
  /**
   * The Debian mirror debootstrap fetches from. It is also what the host's apt sources point at,
   * so it is part of the cache key: a rootfs from another mirror is another rootfs.
   */
  mirror: string;
}

const COMMON_PACKAGES = ['openssh-server', 'iproute2', 'ca-certificates', 'procps', 'curl'];

/** A Debian host with sshd and its own Docker engine (the sandbox hosts). */
export const DOCKER_HOST_ROOTFS: RootfsRecipe = {
  flavour: 'docker-host',
  suite: 'bookworm',
  variant: 'minbase',
  // socat: tests read a host's proxy through its admin socket as an operator would on the host.
  packages: ['openssh-server', 'docker.io', 'iproute2', 'ca-certificates', 'procps', 'curl', 'socat'],
};

/**
 * A Debian host with sshd and no Docker, for what `gangway setup` installs. sudo is there (with
 * no one in sudoers) so tests can give a user passwordless sudo, or not, as real hosts do.
 */
export const BARE_HOST_ROOTFS: RootfsRecipe = { ...DOCKER_HOST_ROOTFS, flavour: 'bare-host', packages: [...COMMON_PACKAGES, 'sudo'] };

/**
 * Debian 13's HAProxy (the 3.0 LTS line), only to copy the binary and its libraries out of (see
 * images/haproxy.ts): this machine runs Debian 12, whose package is 2.6, and no official image
 * can be pulled here.
 */
export const HAPROXY_30_ROOTFS: RootfsRecipe = { flavour: 'haproxy-3.0', suite: 'trixie', variant: 'minbase', packages: ['haproxy'] };

export const withMirror = (recipe: RootfsRecipe, mirror: string): RootfsSpec => ({ ...recipe, mirror });

export const rootfsKey = (spec: RootfsSpec): string => contentHash({ ...spec, packages: [...spec.packages].sort() });

export const rootfsImageTag = (spec: RootfsSpec): string => `${IMAGE_REPOSITORY_PREFIX}${spec.flavour}-rootfs:${rootfsKey(spec)}`;

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GANGWAY_CACHE_DIR) return env.GANGWAY_CACHE_DIR;
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'gangway');
}

export const rootfsTarballPath = (cacheDir: string, spec: RootfsSpec): string => join(cacheDir, `${spec.flavour}-rootfs-${rootfsKey(spec)}.tar`);

export function debootstrapArgv(spec: RootfsSpec, targetDir: string): string[] {
  return [`--variant=${spec.variant}`, `--include=${spec.packages.join(',')}`, spec.suite, targetDir, spec.mirror];
}

/** Docs, man pages, locales and apt caches are dead weight in a throwaway host. */
export const ROOTFS_TAR_EXCLUDES = ['./usr/share/doc/*', './usr/share/man/*', './usr/share/locale/*', './var/cache/apt/*', './var/lib/apt/lists/*'];

export function rootfsTarArgv(sourceDir: string, tarball: string): string[] {
  return ['-C', sourceDir, '--numeric-owner', ...ROOTFS_TAR_EXCLUDES.map((p) => `--exclude=${p}`), '-cf', tarball, '.'];
}

export interface RootfsImage {
  tag: string;
  /** What this call had to do: nothing (image cached), import the cached tarball, or both. */
  work: 'none' | 'import' | 'debootstrap+import';
  debootstrapMs?: number;
  importMs?: number;
}

export async function ensureRootfsImage(docker: Docker, spec: RootfsSpec, events: Events, cacheDir = defaultCacheDir()): Promise<RootfsImage> {
  const tag = rootfsImageTag(spec);
  const step = `image ${spec.flavour}-rootfs`;
  if (await imageExists(docker, tag)) {
    events.step(step, 'skip', { message: `${tag} (cached)` });
    return { tag, work: 'none' };
  }
  const tarball = rootfsTarballPath(cacheDir, spec);
  let debootstrapMs: number | undefined;
  if (!(await fileExists(tarball))) debootstrapMs = await debootstrapTarball(spec, tarball, cacheDir, events);
  const importStarted = Date.now();
  events.step(step, 'start', { message: `importing ${tarball}` });
  try {
    const [repo, key] = tag.split(':') as [string, string];
    const stream = await docker.importImage(createReadStream(tarball), { repo, tag: key, changes: `LABEL ${IMAGE_LABEL}=${spec.flavour}-rootfs` });
    await followProgress(stream);
  } catch (err) {
    events.step(step, 'fail', { message: messageOf(err) });
    throw operationError(`importing ${tarball} failed: ${messageOf(err)}`, { step, cause: err, hint: `delete ${tarball} to debootstrap it again` });
  }
  const importMs = Date.now() - importStarted;
  events.step(step, 'done', { message: tag, durationMs: importMs });
  return { tag, work: debootstrapMs === undefined ? 'import' : 'debootstrap+import', debootstrapMs, importMs };
}

async function debootstrapTarball(spec: RootfsSpec, tarball: string, cacheDir: string, events: Events): Promise<number> {
  const step = `debootstrap ${spec.flavour}`;
  const started = Date.now();
  await mkdir(cacheDir, { recursive: true });
  const workDir = await mkdtemp(join(cacheDir, `${spec.flavour}-build-`));
  const rootDir = join(workDir, 'root');
  events.step(step, 'start', { message: `${spec.suite} ${spec.variant} from ${spec.mirror} + ${spec.packages.join(',')}` });
  try {
    await run('debootstrap', debootstrapArgv(spec, rootDir), (line) => events.log(line, { step }));
    const partial = `${tarball}.partial`;
    await run('tar', rootfsTarArgv(rootDir, partial));
    // Renamed only when complete, so a killed run never leaves a tarball that looks valid.
    await rename(partial, tarball);
  } catch (err) {
    events.step(step, 'fail', { message: messageOf(err) });
    throw operationError(`debootstrap of ${spec.flavour} (${spec.suite}) failed: ${messageOf(err)}`, { step, cause: err, hint: `the sandbox needs root, debootstrap and access to the Debian mirror ${spec.mirror} (set GANGWAY_DEBIAN_MIRROR for another); run scripts/setup.sh` });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  const durationMs = Date.now() - started;
  events.step(step, 'done', { message: tarball, durationMs });
  return durationMs;
}

function run(command: string, argv: string[], onLine?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        onLine?.(line);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${tail.slice(-5).join(' | ')}`))));
  });
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
