// The sandbox: N Docker-in-Docker "VMs" with sshd plus a registry, on one labelled network,
// all reachable from the runner through 127.0.0.1 only. Up, down and status.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { join, resolve } from 'node:path';
import Docker from 'dockerode';
import ssh2 from 'ssh2';
import { pack as tarPack } from 'tar-stream';
import { GangwayError, messageOf, operationError, usageError } from '../errors.js';
import type { Events } from '../events/events.js';
import {
  DEFAULT_SANDBOX_ID, SANDBOX_HOST_LABEL, SANDBOX_ROLE_LABEL, hostCreateOptions, hostVolumeCreateOptions, isValidSandboxId,
  networkCreateOptions, publishedPort, registryCreateOptions, sandboxFilter, sandboxHostNames, sandboxNames,
} from './containers.js';
import { isAlreadyGone } from '../docker/errors.js';
import { pushImage } from '../docker/images.js';
import { combinedLogText } from '../docker/logs.js';
import { execIn } from './engine.js';
import { SANDBOX_FILES, configFragmentYaml, knownHostsText, sandboxConfigYaml, type HostKeyEntry } from './files.js';
import { ensureSandboxImages, type BuiltImage, type SandboxImages } from './images.js';
import { SANDBOX_REGISTRY_NAME, type HostFlavour } from './images/host.js';
import { REGISTRY_PORT } from './images/registry.js';
import { SANDBOX_LABEL, type SandboxHost, type SandboxInfo } from './types.js';
import { createContainer } from '../docker/containers.js';

export interface SandboxUpOptions {
  /** Label value and name part; several sandboxes with different ids can coexist. */
  id?: string;
  hosts?: number;
  /** Where the key, known_hosts, sandbox.json and the config files are written. */
  outDir: string;
  /**
   * The registry's port on the runner's 127.0.0.1. 5000 (the default) is what makes the
   * name registry:5000 work on the runner; 0 picks a free port (then nothing is pushed).
   */
  registryPort?: number;
  /** Push the haproxy (2.6 and 3.0), busybox, hello and acme images to the sandbox registry (default: true). */
  pushImages?: boolean;
  docker?: Docker;
  /** Where the debootstrapped rootfs tarball is kept (default ~/.cache/gangway). */
  cacheDir?: string;
  /**
   * The Debian mirror the hosts' rootfs is debootstrapped from (and their apt sources point at).
   * Default: $GANGWAY_DEBIAN_MIRROR, else the mirror this machine's apt uses for the suite.
   */
  debianMirror?: string;
  /** How long a host may take until its dockerd and sshd answer. */
  readyTimeoutMs?: number;
  /**
   * docker-host (default): Debian + sshd + a running dockerd. bare-host: Debian + sshd + sudo and
   * no Docker, prepared to run one (capabilities, cgroups, a /var/lib/docker volume) once
   * `gangway setup` installs it.
   */
  flavour?: HostFlavour;
  /** Per host name (vm1...), over `flavour`. */
  hostFlavours?: Record<string, HostFlavour>;
}

export const flavourOf = (opts: Pick<SandboxUpOptions, 'flavour' | 'hostFlavours'>, hostName: string): HostFlavour =>
  opts.hostFlavours?.[hostName] ?? opts.flavour ?? 'docker-host';

export interface SandboxUpResult extends SandboxInfo {
  timings: { imagesMs: number; hostsMs: number; totalMs: number };
}

const MAX_HOSTS = 20;

export async function sandboxUp(opts: SandboxUpOptions, events: Events): Promise<SandboxUpResult> {
  const started = Date.now();
  const id = opts.id ?? DEFAULT_SANDBOX_ID;
  const hostCount = opts.hosts ?? 3;
  const registryPort = opts.registryPort ?? REGISTRY_PORT;
  const pushImages = opts.pushImages ?? true;
  const outDir = resolve(opts.outDir);
  if (!isValidSandboxId(id)) throw usageError(`invalid sandbox id "${id}"`, { hint: 'lower-case letters, digits and "-", at most 31 characters' });
  if (!Number.isInteger(hostCount) || hostCount < 1 || hostCount > MAX_HOSTS) throw usageError(`--hosts must be a whole number from 1 to ${MAX_HOSTS}, not ${hostCount}`);
  const docker = opts.docker ?? new Docker();

  const hostNames = sandboxHostNames(hostCount);
  const flavours = hostNames.map((name) => flavourOf(opts, name));
  const images = await ensureSandboxImages(docker, events, { ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}), ...(opts.debianMirror !== undefined ? { debianMirror: opts.debianMirror } : {}) }, flavours);
  const imagesMs = Date.now() - started;

  await sandboxDown({ id, docker }, events, 'sweep');
  const hostsStarted = Date.now();
  try {
    await mkdir(outDir, { recursive: true, mode: 0o700 });
    const keyPath = join(outDir, SANDBOX_FILES.key);
    const publicKey = await writeKeyPair(outDir, id);

    await timed(events, 'network', {}, () => docker.createNetwork(networkCreateOptions(id)));
    const registryWork = startRegistry(docker, id, images.registry.tag, registryPort, events).then(async (registry) => {
      const pushed = pushImages ? await pushSandboxImages(docker, images, registry.localPort, events) : localImageNames(images);
      return { registry, pushed };
    });
    const hostResults = await Promise.allSettled(
      hostNames.map((name, i) => startHost(docker, { id, name, flavour: flavours[i]!, image: images.hostsByFlavour[flavours[i]!]!.tag, publicKey, readyTimeoutMs: opts.readyTimeoutMs ?? 90_000 }, events)),
    );
    const { registry, pushed } = await registryWork;
    const failed = hostResults.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const hosts = hostResults.map((r) => (r as PromiseFulfilledResult<StartedHost>).value);

    const info: SandboxInfo = {
      id,
      network: sandboxNames(id).network,
      hosts: hosts.map((h) => h.host),
      registry: { containerId: registry.containerId, name: SANDBOX_REGISTRY_NAME, localPort: registry.localPort },
      keyPath,
      knownHostsPath: join(outDir, SANDBOX_FILES.knownHosts),
      configFragmentPath: join(outDir, SANDBOX_FILES.fragment),
      configPath: join(outDir, SANDBOX_FILES.config),
      images: pushed,
      createdAt: new Date().toISOString(),
    };
    await writeSandboxFiles(info, hosts.map((h) => h.hostKey));
    const totalMs = Date.now() - started;
    const hostsMs = Date.now() - hostsStarted;
    events.result('sandbox', { ...info, timings: { imagesMs, hostsMs, totalMs } });
    return { ...info, timings: { imagesMs, hostsMs, totalMs } };
  } catch (err) {
    // A half-started sandbox is of no use and holds port 5000: remove it, keep the error.
    events.log(`sandbox ${id} did not come up; removing what was started`, { level: 'warn' });
    await sandboxDown({ id, docker }, events, 'cleanup').catch(() => {});
    throw err instanceof GangwayError ? err : operationError(`sandbox up failed: ${messageOf(err)}`, { step: 'sandbox up', cause: err });
  }
}

/**
 * A fresh ed25519 key pair that ssh2 can read back. ssh2's own generator writes one it then
 * refuses as "Malformed OpenSSH private key" about 6 times in 1000 (measured: 18 of 3000): a
 * sandbox made with one could not be reached, and CI failed a whole suite on it once.
 */
export function sandboxKeyPair(id: string): { private: string; public: string } {
  for (let attempt = 0; attempt < KEYGEN_ATTEMPTS; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: `gangway-sandbox-${id}` });
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error)) return pair;
  }
  throw new Error(`ssh2 made ${KEYGEN_ATTEMPTS} ed25519 keys in a row that it cannot read back`);
}
const KEYGEN_ATTEMPTS = 20;

async function writeKeyPair(outDir: string, id: string): Promise<string> {
  // A fresh key per sandbox: nothing else ever trusts it, and it dies with the sandbox.
  const pair = sandboxKeyPair(id);
  await writeFile(join(outDir, SANDBOX_FILES.key), pair.private, { mode: 0o600 });
  await writeFile(join(outDir, SANDBOX_FILES.publicKey), `${pair.public}\n`, { mode: 0o644 });
  return pair.public;
}

async function writeSandboxFiles(info: SandboxInfo, hostKeys: HostKeyEntry[]): Promise<void> {
  await writeFile(info.knownHostsPath, knownHostsText(hostKeys), { mode: 0o644 });
  await writeFile(info.configFragmentPath, configFragmentYaml(info));
  if (info.configPath) await writeFile(info.configPath, sandboxConfigYaml(info));
  await writeFile(join(resolve(info.keyPath, '..'), SANDBOX_FILES.info), `${JSON.stringify(info, null, 2)}\n`);
}

/** Runs one step with start/done/fail events and its duration. */
async function timed<T>(events: Events, step: string, where: { host?: string }, body: () => Promise<T>, message?: (value: T) => string | undefined): Promise<T> {
  const started = Date.now();
  events.step(step, 'start', where);
  try {
    const value = await body();
    events.step(step, 'done', { ...where, message: message?.(value), durationMs: Date.now() - started });
    return value;
  } catch (err) {
    events.step(step, 'fail', { ...where, message: messageOf(err), durationMs: Date.now() - started });
    throw err;
  }
}

interface StartedRegistry {
  containerId: string;
  localPort: number;
}

async function startRegistry(docker: Docker, id: string, image: string, port: number, events: Events): Promise<StartedRegistry> {
  return timed(events, 'registry', { host: 'registry' }, async () => {
    const container = await createContainer(docker, registryCreateOptions({ id, image, localPort: port }));
    try {
      await container.start();
    } catch (err) {
      if (/port is already allocated|address already in use/i.test(messageOf(err))) {
        throw operationError(`127.0.0.1:${port} is taken, so the sandbox registry cannot publish there`, {
          host: 'registry',
          step: 'registry',
          cause: err,
          hint: port === REGISTRY_PORT ? 'another sandbox (see `gangway sandbox status`) or registry holds it; `gangway sandbox down` removes every sandbox' : undefined,
        });
      }
      throw err;
    }
    const localPort = publishedPort(await container.inspect(), `${REGISTRY_PORT}/tcp`);
    if (!localPort) throw operationError('the registry has no published port', { host: 'registry', step: 'registry' });
    await waitFor(`registry on 127.0.0.1:${localPort}`, 20_000, () => httpStatus(localPort, '/v2/').then((s) => s === 200));
    return { containerId: container.id, localPort };
  }, (r) => `127.0.0.1:${r.localPort}`);
}

const registryName = (image: BuiltImage) => `${SANDBOX_REGISTRY_NAME}/gangway/${image.name}:${image.hash}`;

function localImageNames(images: SandboxImages): SandboxInfo['images'] {
  return { proxy: images.haproxy.tag, proxies: { '2.6': images.haproxy.tag, '3.0': images.haproxy30.tag }, busybox: images.busybox.tag, hello: images.hello.tag, acme: images.acme.tag };
}

/**
 * Pushes the images for the hosts to pull as registry:5000/gangway/<name>:<hash>. The runner pushes
 * through the registry's port on 127.0.0.1 (loopback needs no TLS and no /etc/hosts entry), so any
 * sandbox's registry works; a registry does not care which name reached it.
 */
async function pushSandboxImages(docker: Docker, images: SandboxImages, localPort: number, events: Events): Promise<SandboxInfo['images']> {
  const push = (image: BuiltImage): Promise<string> => pushToSandboxRegistry(docker, image, localPort, events);
  // Sequential pushes share layers (hello is built on busybox) instead of racing to upload them twice.
  const busybox = await push(images.busybox);
  const hello = await push(images.hello);
  const proxy = await push(images.haproxy);
  const proxy30 = await push(images.haproxy30);
  const acme = await push(images.acme);
  return { proxy, proxies: { '2.6': proxy, '3.0': proxy30 }, busybox, hello, acme };
}

/** Pushes one built image to a sandbox's registry; returns the name the hosts pull it by (registry:5000/gangway/<name>:<hash>). */
export async function pushToSandboxRegistry(docker: Docker, image: BuiltImage, localPort: number, events: Events): Promise<string> {
  const target = registryName(image);
  await timed(events, `push ${image.name}`, { host: 'registry' }, async () => {
    const repo = `127.0.0.1:${localPort}/gangway/${image.name}`;
    await docker.getImage(image.tag).tag({ repo, tag: image.hash });
    await pushImage(docker, { repository: repo, tag: image.hash });
    // The loopback name was only the way in; hosts and configs use registry:5000.
    await docker.getImage(`${repo}:${image.hash}`).remove({ noprune: true }).catch(() => {});
  }, () => target);
  return target;
}

interface HostInput {
  id: string;
  name: string;
  flavour: HostFlavour;
  image: string;
  publicKey: string;
  readyTimeoutMs: number;
}

interface StartedHost {
  host: SandboxHost;
  hostKey: HostKeyEntry;
}

async function startHost(docker: Docker, input: HostInput, events: Events): Promise<StartedHost> {
  const where = { host: input.name };
  const started = Date.now();
  const container = await timed(events, 'create', where, async () => {
    await docker.createVolume(hostVolumeCreateOptions(input.id, input.name));
    const created = await createContainer(docker, hostCreateOptions({ id: input.id, image: input.image, hostName: input.name, sshPort: 0, httpPort: 0 }));
    // Before start, so sshd never runs without the key.
    await created.putArchive(authorizedKeysTar(input.publicKey), { path: '/' });
    return created;
  });
  const ports = await timed(events, 'start', where, async () => {
    await container.start();
    const inspect = await container.inspect();
    const sshPort = publishedPort(inspect, '22/tcp');
    const httpPort = publishedPort(inspect, '80/tcp');
    const httpsPort = publishedPort(inspect, '443/tcp');
    if (!sshPort || !httpPort || !httpsPort) throw operationError('the host has no published ports', { host: input.name, step: 'start' });
    return { sshPort, httpPort, httpsPort };
  }, (p) => `ssh 127.0.0.1:${p.sshPort}, http 127.0.0.1:${p.httpPort}, https 127.0.0.1:${p.httpsPort}`);

  try {
    if (input.flavour === 'docker-host') {
      await timed(events, 'dockerd', where, () =>
        waitFor(`dockerd on ${input.name}`, input.readyTimeoutMs, async () => {
          await assertRunning(container, input.name);
          return (await execIn(container, ['docker', 'info', '--format', '{{.ServerVersion}}'], 10_000)).exitCode === 0;
        }),
      );
    }
    await timed(events, 'sshd', where, () =>
      waitFor(`sshd on ${input.name}`, input.flavour === 'docker-host' ? 20_000 : input.readyTimeoutMs, async () => {
        await assertRunning(container, input.name);
        return sshBannerAt(ports.sshPort);
      }),
    );
  } catch (err) {
    const logs = await containerLogTail(container);
    throw operationError(messageOf(err), { host: input.name, step: 'ready', details: logs, hint: `docker logs ${sandboxNames(input.id).host(input.name)}`, cause: err });
  }
  const hostKey = await execIn(container, ['cat', '/etc/ssh/ssh_host_ed25519_key.pub']);
  if (hostKey.exitCode !== 0) throw operationError('cannot read the host key', { host: input.name, step: 'host key', details: [hostKey.output] });
  events.step('ready', 'done', { ...where, durationMs: Date.now() - started });
  return {
    host: { name: input.name, flavour: input.flavour, containerId: container.id, address: '127.0.0.1', sshPort: ports.sshPort, httpPort: ports.httpPort, httpsPort: ports.httpsPort },
    hostKey: { address: '127.0.0.1', port: ports.sshPort, publicKey: hostKey.output.trim() },
  };
}

function authorizedKeysTar(publicKey: string): NodeJS.ReadableStream {
  const pack = tarPack();
  pack.entry({ name: 'root/.ssh', type: 'directory', mode: 0o700, uid: 0, gid: 0 });
  pack.entry({ name: 'root/.ssh/authorized_keys', mode: 0o600, uid: 0, gid: 0 }, `${publicKey.trim()}\n`);
  pack.finalize();
  return pack as unknown as NodeJS.ReadableStream;
}

async function assertRunning(container: Docker.Container, host: string): Promise<void> {
  const state = (await container.inspect()).State;
  if (!state.Running) throw operationError(`the host container exited (code ${state.ExitCode})`, { host, step: 'ready' });
}

async function containerLogTail(container: Docker.Container, lines = 15): Promise<string[]> {
  try {
    const buf = (await container.logs({ stdout: true, stderr: true, tail: lines })) as unknown as Buffer;
    return combinedLogText(buf).trimEnd().split('\n');
  } catch {
    return [];
  }
}

async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>, intervalMs = 300): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (err) {
      if (err instanceof GangwayError) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} did not answer within ${timeoutMs} ms${lastError ? ` (last error: ${messageOf(lastError)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** True once something on the port speaks SSH (docker-proxy accepts connections before sshd listens). */
function sshBannerAt(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => { socket.destroy(); resolvePromise(ok); };
    socket.setTimeout(2000, () => done(false));
    socket.once('data', (chunk: Buffer) => done(chunk.toString('latin1').startsWith('SSH-')));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

function httpStatus(port: number, path: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
      res.resume();
      resolvePromise(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export interface SandboxDownResult {
  containers: number;
  networks: number;
  volumes: number;
}

/**
 * Removes every container, network and volume labelled for the sandbox `id` (for every
 * sandbox when id is undefined). Needs no state file, so it works after a crash; running it
 * twice is fine.
 */
export async function sandboxDown(opts: { id?: string; docker?: Docker }, events: Events, step = 'down'): Promise<SandboxDownResult> {
  const docker = opts.docker ?? new Docker();
  const filters = sandboxFilter(opts.id);
  const started = Date.now();
  const ignoreGone = (err: unknown) => { if (!isAlreadyGone(err)) throw err; };

  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(ignoreGone)));
  const networks = await docker.listNetworks({ filters });
  for (const n of networks) await docker.getNetwork(n.Id).remove().catch(ignoreGone);
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  await Promise.all(volumes.map((v) => docker.getVolume(v.Name).remove().catch(ignoreGone)));

  const removed = { containers: containers.length, networks: networks.length, volumes: volumes.length };
  const total = removed.containers + removed.networks + removed.volumes;
  events.step(step, total === 0 ? 'skip' : 'done', {
    message: total === 0 ? 'nothing to remove' : `removed ${removed.containers} containers, ${removed.networks} networks, ${removed.volumes} volumes`,
    durationMs: Date.now() - started,
  });
  return removed;
}

export interface SandboxStatusRow {
  sandbox: string;
  name: string;
  role: string;
  host?: string;
  state: string;
  status: string;
  /** "127.0.0.1:2201->22/tcp" style, as published on the runner. */
  ports: string[];
}

export interface SandboxStatus {
  rows: SandboxStatusRow[];
  /** sandbox.json from the out dir, when there is one. */
  info?: SandboxInfo;
}

export async function sandboxStatus(opts: { id?: string; docker?: Docker; outDir?: string }): Promise<SandboxStatus> {
  const docker = opts.docker ?? new Docker();
  const containers = await docker.listContainers({ all: true, filters: sandboxFilter(opts.id) });
  const rows = containers
    .map((c): SandboxStatusRow => ({
      sandbox: c.Labels[SANDBOX_LABEL] ?? '',
      name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
      role: c.Labels[SANDBOX_ROLE_LABEL] ?? '',
      host: c.Labels[SANDBOX_HOST_LABEL],
      state: c.State,
      status: c.Status,
      ports: c.Ports.filter((p) => p.PublicPort).map((p) => `${p.IP}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`).sort(),
    }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  return { rows, info: opts.outDir ? await readSandboxInfo(opts.outDir) : undefined };
}

export async function readSandboxInfo(outDir: string): Promise<SandboxInfo | undefined> {
  try {
    return JSON.parse(await readFile(join(outDir, SANDBOX_FILES.info), 'utf8')) as SandboxInfo;
  } catch {
    return undefined;
  }
}
