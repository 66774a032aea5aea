// The proxy container's life on one host: the network, the image, who it runs as, and bringing it
// to the wanted image and settings (create, recreate, start, reload) without losing its routes.
import type Docker from 'dockerode';
import { isNotFound } from '../docker/errors.js';
import { imageId, pulledImageId, pullImage } from '../docker/images.js';
import { messageOf } from '../errors.js';
import { inspectOrUndefined, reconcileAddresses } from './addresses.js';
import { proxyContainerSpec, type ProxyContainerOptions } from './container.js';
import { proxyBackendOf, readConfigFile, removeDeadSocket, serversToKeep, writeConfigFile } from './file-sync.js';
import { parseProxyIdentity, proxyIdentityCommand, type ProxyIdentity } from './identity.js';
import { PROXY_CONTAINER_NAME, PROXY_LABEL, PROXY_UID } from './paths.js';
import { needsReload, renderHaproxyConfig } from './render.js';
import { networkOf, proxyError, type ProxyTarget } from './target.js';
import { waitRuntimeReady, workerPid } from './waits.js';
import { createContainer } from '../docker/containers.js';

export interface EnsureProxyOptions extends Omit<ProxyContainerOptions, 'network' | 'containerName' | 'hostDir' | 'uid' | 'gid'> {
  /** How long to wait for the runtime API to answer after a start or reload. */
  readyTimeoutMs?: number;
  /** The uid HAProxy runs as (default PROXY_UID); its group is read on the host. */
  uid?: number;
}

/** The uid the proxy runs as and the host's docker group; refuses a uid a host account has. */
export async function readProxyIdentity(t: ProxyTarget, uid: number = PROXY_UID): Promise<ProxyIdentity> {
  const r = await t.host.exec(proxyIdentityCommand(uid).command);
  if (r.code !== 0) throw proxyError(t, `cannot read the proxy's user and group on ${t.host.name}: ${r.stderr.trim() || `exit ${r.code}`}`);
  const answer = parseProxyIdentity(r.stdout, uid);
  if (!answer.ok) throw proxyError(t, `the proxy cannot run unprivileged on ${t.host.name}: ${answer.reason}`, { hint: answer.hint });
  return answer.identity;
}

export interface EnsureProxyResult {
  containerId: string;
  action: 'created' | 'recreated' | 'started' | 'reloaded' | 'file-repaired' | 'unchanged';
}

/**
 * Brings the host's proxy to the wanted image, ports and settings without losing its routes:
 * the servers come from the live runtime when it answers, else from the file gangway wrote.
 * Settings changes on a running, otherwise current proxy are applied with a seamless reload
 * (SIGUSR2 to the master), not a restart.
 */
export async function ensureProxy(t: ProxyTarget, opts: EnsureProxyOptions): Promise<EnsureProxyResult> {
  const started = Date.now();
  t.events?.step('proxy', 'start', { host: t.host.name, message: `ensure ${opts.image}` });
  const docker = await t.host.docker();
  await ensureNetwork(docker, networkOf(t), opts.labels);
  const [imageId, identity] = await Promise.all([ensureImagePresent(t, docker, opts.image), readProxyIdentity(t, opts.uid)]);
  const spec = proxyContainerSpec({ ...opts, ...identity, network: networkOf(t), containerName: t.containerName, hostDir: t.hostDir });
  const name = spec.name ?? PROXY_CONTAINER_NAME;
  const existing = await inspectOrUndefined(docker.getContainer(name));
  const running = existing?.State.Running === true;

  const servers = await serversToKeep(t, running);
  const wanted = renderHaproxyConfig(proxyBackendOf(t, servers));
  const current = existing?.Config.Labels?.[PROXY_LABEL.spec] === spec.Labels?.[PROXY_LABEL.spec] && existing?.Image === imageId;

  let action: EnsureProxyResult['action'];
  let containerId: string;
  if (existing && current) {
    containerId = existing.Id;
    const file = await readConfigFile(t);
    if (!running) {
      await removeDeadSocket(t);
      await writeConfigFile(t, wanted);
      await docker.getContainer(existing.Id).start();
      await waitRuntimeReady(t, docker, existing.Id, opts.readyTimeoutMs);
      action = 'started';
    } else if (file !== wanted && (file === undefined || needsReload(file, wanted))) {
      // Settings changed (health check path, interval...): only a new worker reads them.
      const before = await workerPid(t);
      await writeConfigFile(t, wanted);
      await docker.getContainer(existing.Id).kill({ signal: 'SIGUSR2' });
      await waitRuntimeReady(t, docker, existing.Id, opts.readyTimeoutMs, before);
      action = 'reloaded';
    } else if (file !== wanted) {
      // Only the servers differ (a run killed between a runtime change and its file write): the
      // running proxy is the truth, so the file is brought to it. A reload would cost keep-alive
      // connections and change nothing that serves.
      await writeConfigFile(t, wanted);
      t.events?.log('haproxy.cfg differed from the running proxy\'s servers; rewritten from the runtime state (no reload)', { level: 'warn', host: t.host.name, step: 'proxy' });
      action = 'file-repaired';
    } else {
      action = 'unchanged';
    }
  } else {
    if (existing) await docker.getContainer(existing.Id).remove({ force: true });
    await removeDeadSocket(t);
    await writeConfigFile(t, wanted);
    const created = await createContainer(docker, spec);
    await created.start();
    await waitRuntimeReady(t, docker, created.id, opts.readyTimeoutMs);
    containerId = created.id;
    action = existing ? 'recreated' : 'created';
  }
  await reconcileAddresses(t);
  t.events?.step('proxy', 'done', { host: t.host.name, message: `${name} ${action}`, durationMs: Date.now() - started });
  return { containerId, action };
}

/** Stops and removes the proxy container (config directory left in place). */
export async function removeProxy(t: ProxyTarget): Promise<void> {
  const docker = await t.host.docker();
  const c = docker.getContainer(t.containerName ?? PROXY_CONTAINER_NAME);
  await c.remove({ force: true }).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });
}

/** The app network on this engine, created (labelled gangway's) when missing; shared with setup and deploy. */
export async function ensureNetwork(docker: Docker, network: string, labels: Record<string, string> = {}): Promise<void> {
  const found = await inspectOrUndefined(docker.getNetwork(network));
  if (found) return;
  await docker.createNetwork({ Name: network, Driver: 'bridge', CheckDuplicate: true, Labels: { ...labels, 'gangway.managed': 'network' } }).catch((err: { statusCode?: number }) => {
    // Another process created it between our check and our create.
    if (err.statusCode !== 409) throw err;
  });
}

async function ensureImagePresent(t: ProxyTarget, docker: Docker, image: string): Promise<string> {
  const found = await imageId(docker, image);
  if (found) return found;
  try {
    await pullImage(docker, image);
    return await pulledImageId(docker, image);
  } catch (err) {
    throw proxyError(t, `the proxy image ${image} is not on ${t.host.name} and cannot be pulled: ${messageOf(err)}`, {
      hint: 'set proxy.image to an image the host can pull, or build one locally (see `gangway sandbox`)',
      cause: err,
    });
  }
}

