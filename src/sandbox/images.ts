// Every image the sandbox needs, built (or found cached) on the local engine.
import Docker from 'dockerode';
import { Events } from '../events/events.js';
import { ensureImage, type BuiltImage } from './image-builder.js';
import { busyboxImage, loadBusyboxInputs } from './images/busybox.js';
import { haproxy30Image, haproxyImage, loadHaproxyInputs } from './images/haproxy.js';
import { helloImage, loadHelloSource, type HelloVariant } from './images/hello.js';
import { hostImage, type HostFlavour } from './images/host.js';
import { loadRegistryInputs, registryImage } from './images/registry.js';
import { loadPebbleInputs, pebbleImage } from './images/pebble.js';
import { acmeImage, loadAcmeImageInputs } from './images/acme.js';
import { resolveDebianMirror } from './debian-mirror.js';
import { BARE_HOST_ROOTFS, DOCKER_HOST_ROOTFS, HAPROXY_30_ROOTFS, ensureRootfsImage, withMirror, type RootfsImage, type RootfsRecipe } from './rootfs.js';

export type { BuiltImage } from './image-builder.js';

export const ensureBusyboxImage = async (docker: Docker, events: Events): Promise<BuiltImage> =>
  ensureImage(docker, busyboxImage(await loadBusyboxInputs()), events);

export const ensureRegistryImage = async (docker: Docker, events: Events): Promise<BuiltImage> =>
  ensureImage(docker, registryImage(await loadRegistryInputs()), events);

export const ensureHaproxyImage = async (docker: Docker, events: Events): Promise<BuiltImage> =>
  ensureImage(docker, haproxyImage(await loadHaproxyInputs()), events);

/**
 * gangway/haproxy-3.0: Debian 13's HAProxy, from a trixie rootfs debootstrapped from the Debian
 * archive this machine's apt names (debian-mirror.ts), both cached by content hash.
 */
export async function ensureHaproxy30Image(docker: Docker, events: Events, opts: HostImageOptions = {}): Promise<BuiltImage> {
  const { mirror } = await resolveDebianMirror({ suite: HAPROXY_30_ROOTFS.suite, ...(opts.debianMirror !== undefined ? { option: opts.debianMirror } : {}) });
  const rootfs = await ensureRootfsImage(docker, withMirror(HAPROXY_30_ROOTFS, mirror), events, opts.cacheDir);
  return ensureImage(docker, haproxy30Image({ rootfsTag: rootfs.tag }), events);
}

export interface HostImage extends BuiltImage {
  rootfs: RootfsImage;
}

const ROOTFS_OF: Record<HostFlavour, RootfsRecipe> = { 'docker-host': DOCKER_HOST_ROOTFS, 'bare-host': BARE_HOST_ROOTFS };

/** Where the host images come from besides the recipe: the rootfs cache, and the Debian mirror (see debian-mirror.ts). */
export interface HostImageOptions {
  cacheDir?: string;
  /** Over GANGWAY_DEBIAN_MIRROR and this machine's apt sources. */
  debianMirror?: string;
}

/** The host image of one flavour: its debootstrapped rootfs plus the entrypoint, both cached by content hash. */
export async function ensureHostImage(docker: Docker, flavour: HostFlavour, events: Events, opts: HostImageOptions = {}): Promise<HostImage> {
  const recipe = ROOTFS_OF[flavour];
  const { mirror } = await resolveDebianMirror({ suite: recipe.suite, ...(opts.debianMirror !== undefined ? { option: opts.debianMirror } : {}) });
  const rootfs = await ensureRootfsImage(docker, withMirror(recipe, mirror), events, opts.cacheDir);
  const built = await ensureImage(docker, hostImage({ flavour, rootfsTag: rootfs.tag }), events);
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
  /** The docker-host image when a docker host is asked for (else the first flavour built). */
  host: HostImage;
  /** Every host image built for this sandbox, by flavour. */
  hostsByFlavour: Partial<Record<HostFlavour, HostImage>>;
  registry: BuiltImage;
  /** HAProxy 2.6 (Debian 12's, this machine's package). */
  haproxy: BuiltImage;
  /** HAProxy 3.0 (Debian 13's). */
  haproxy30: BuiltImage;
  busybox: BuiltImage;
  hello: BuiltImage;
  /** gangway/acme, the renewal container's image, so `proxy.ssl: true` works on the sandbox. */
  acme: BuiltImage;
}

/** The version the sandbox pushes for hello, so hosts can pull an app without a build. */
export const SANDBOX_HELLO_VERSION = '1.0.0';

// Two lines of work side by side: the HAProxy 3.0 image (a trixie debootstrap when not cached,
// which waits on the network, not the CPU) and everything else one after another (the machine has
// few cores, and those builds are small once the host rootfs exists).
export async function ensureSandboxImages(docker: Docker, events: Events, opts: HostImageOptions = {}, flavours: HostFlavour[] = ['docker-host']): Promise<SandboxImages> {
  const haproxy30Work = ensureHaproxy30Image(docker, events, opts);
  // Settled with the rest, so a failure of the others does not leave it rejected and unheard.
  haproxy30Work.catch(() => {});
  const hostsByFlavour: Partial<Record<HostFlavour, HostImage>> = {};
  for (const flavour of [...new Set(flavours)]) hostsByFlavour[flavour] = await ensureHostImage(docker, flavour, events, opts);
  const host = hostsByFlavour['docker-host'] ?? Object.values(hostsByFlavour)[0]!;
  const registry = await ensureRegistryImage(docker, events);
  const haproxy = await ensureHaproxyImage(docker, events);
  const busybox = await ensureBusyboxImage(docker, events);
  const hello = await buildHello({ version: SANDBOX_HELLO_VERSION, base: busybox.tag, docker, events });
  const acme = await ensureAcmeImage(docker, events);
  const haproxy30 = await haproxy30Work;
  return { host, hostsByFlavour, registry, haproxy, haproxy30, busybox, hello, acme };
}

/** gangway/pebble: the test ACME CA and its mock DNS (images/pebble.ts). */
export const ensurePebbleImage = async (docker: Docker, events: Events): Promise<BuiltImage> =>
  ensureImage(docker, pebbleImage(await loadPebbleInputs()), events);

/** gangway/acme: lego + socat + busybox, the renewal container's image (images/acme.ts). */
export const ensureAcmeImage = async (docker: Docker, events: Events): Promise<BuiltImage> =>
  ensureImage(docker, acmeImage(await loadAcmeImageInputs()), events);
