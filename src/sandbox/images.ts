// Every image the sandbox needs, built (or found cached) on the local engine.
import Docker from 'dockerode';
import { Events } from '../events/events.js';
import { ensureImage, type BuiltImage } from './image-builder.js';
import { busyboxImage, loadBusyboxInputs } from './images/busybox.js';
import { haproxyImage, loadHaproxyInputs } from './images/haproxy.js';
import { helloImage, loadHelloSource, type HelloVariant } from './images/hello.js';
import { hostImage } from './images/host.js';
import { loadRegistryInputs, registryImage } from './images/registry.js';
import { DOCKER_HOST_ROOTFS, ensureRootfsImage, type RootfsImage } from './rootfs.js';

export type { BuiltImage } from './image-builder.js';

export const ensureBusyboxImage = async (docker: Docker, events: Events): Promise<BuiltImage> =>
  ensureImage(docker, busyboxImage(await loadBusyboxInputs()), events);

export const ensureRegistryImage = async (docker: Docker, events: Events): Promise<BuiltImage> =>
  ensureImage(docker, registryImage(await loadRegistryInputs()), events);

export const ensureHaproxyImage = async (docker: Docker, events: Events): Promise<BuiltImage> =>
  ensureImage(docker, haproxyImage(await loadHaproxyInputs()), events);

export interface HostImage extends BuiltImage {
  rootfs: RootfsImage;
}

export async function ensureDockerHostImage(docker: Docker, events: Events, cacheDir?: string): Promise<HostImage> {
  const rootfs = await ensureRootfsImage(docker, DOCKER_HOST_ROOTFS, events, cacheDir);
  const built = await ensureImage(docker, hostImage({ flavour: 'docker-host', rootfsTag: rootfs.tag }), events);
  return { ...built, rootfs };
}

export interface BuildHelloOptions {
  version: string;
  variant?: HelloVariant;
  /** Base image tag; default: gangway/busybox:<hash>, built if missing. */
  base?: string;
  docker?: Docker;
  events?: Events;
}

/** Builds examples/hello for a version and variant on the local busybox image (both cached by hash). */
export async function buildHello(opts: BuildHelloOptions): Promise<BuiltImage> {
  const docker = opts.docker ?? new Docker();
  const events = opts.events ?? new Events();
  const base = opts.base ?? (await ensureBusyboxImage(docker, events)).tag;
  const spec = helloImage(await loadHelloSource(), { version: opts.version, variant: opts.variant ?? 'ok', base });
  return ensureImage(docker, spec, events);
}

export interface SandboxImages {
  host: HostImage;
  registry: BuiltImage;
  haproxy: BuiltImage;
  busybox: BuiltImage;
  hello: BuiltImage;
}

/** The version the sandbox pushes for hello, so hosts can pull an app without a build. */
export const SANDBOX_HELLO_VERSION = '1.0.0';

// One after another: the machine has few cores and the builds are small once the rootfs exists.
export async function ensureSandboxImages(docker: Docker, events: Events, cacheDir?: string): Promise<SandboxImages> {
  const host = await ensureDockerHostImage(docker, events, cacheDir);
  const registry = await ensureRegistryImage(docker, events);
  const haproxy = await ensureHaproxyImage(docker, events);
  const busybox = await ensureBusyboxImage(docker, events);
  const hello = await buildHello({ version: SANDBOX_HELLO_VERSION, base: busybox.tag, docker, events });
  return { host, registry, haproxy, busybox, hello };
}
