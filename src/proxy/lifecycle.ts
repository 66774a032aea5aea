// The proxy container's life on one host: the network, the image, who it runs as, and bringing it
// to the wanted image and settings (create, recreate, start, reload) without losing its routes.
import type Docker from 'dockerode';
import { isNotFound } from '../docker/errors.js';
import { imageId, pulledImageId, pullImage } from '../docker/images.js';
import { GangwayError, messageOf } from '../errors.js';
import { followMoved, inspectOrUndefined, routeDrift } from './addresses.js';
import { proxyContainerSpec, publishedHttpsPort, type ProxyContainerOptions } from './container.js';
import { mapChanges, mapContents, decideClaim } from './claims.js';
import { certFilesPresent, certFilesPresentCommand } from './cert-files.js';
import { rememberCertFiles, removeDeadSocket, syncConfig, writeLayoutFiles } from './file-sync.js';
import { parseLayoutFiles, readLayoutCommand, renderLayoutFiles, storedFilesMatch, type StoredFiles } from './layout-files.js';
import { emptyLayout, withoutServers, type ProxyLayout } from './layout.js';
import { currentLayout, readStoredFiles } from './live-layout.js';
import { mapCommand } from './runtime-maps.js';
import { parseProxyIdentity, proxyIdentityCommand, type ProxyIdentity } from './identity.js';
import { PROXY_CONTAINER_NAME, PROXY_LABEL, PROXY_UID } from './paths.js';
import type { LiveServer } from './types.js';
import { needsReload } from './render.js';
import { removeServerAtRuntime } from './runtime-operations.js';
import { withRouteLock, type RouteLockHeld } from './route-lock.js';
import { claimOf, dirOf, networkOf, proxyError, runtimeApi, type ProxyTarget } from './target.js';
import { seamlessReload } from './seamless-reload.js';
import { waitRuntimeReady } from './waits.js';
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
  /** `routed`: this target's slot or routes changed through the runtime API (no reload). */
  action: 'created' | 'recreated' | 'started' | 'reloaded' | 'routed' | 'file-repaired' | 'unchanged';
  /** The host's proxy was on the single-service layout and moved to the shared one (a reload). */
  migrated?: boolean;
}

/**
 * What this target's claim makes of the host's proxy, or a config error (exit 2) naming both
 * sides of every conflict. Reads only: deploy runs it on every host before anything changes.
 */
export async function planClaim(t: ProxyTarget, running: boolean): Promise<{ before: ProxyLayout; after: ProxyLayout; legacyRuntime: boolean; liveServers?: Map<string, LiveServer[]> }> {
  const current = await currentLayout(t, running);
  const before = current.layout ?? emptyLayout();
  const decision = decideClaim(before, claimOf(t), t.host.name);
  if (!decision.ok) {
    throw new GangwayError('config', decision.conflicts.length === 1 ? decision.conflicts[0]! : `${decision.conflicts.length} proxy route conflicts on ${t.host.name}`, {
      host: t.host.name,
      step: 'proxy',
      details: decision.conflicts.length === 1 ? [] : decision.conflicts,
      hint: 'each Host name (and path prefix) is answered by one service per host, and at most one service without proxy.hosts (the catch-all); nothing was changed',
    });
  }
  return { before, after: decision.layout, legacyRuntime: current.legacyRuntime, ...(current.liveServers ? { liveServers: current.liveServers } : {}) };
}

/**
 * The claim check alone, on a host whose proxy may or may not run (see planClaim); returns every
 * backend's servers as the running proxy's runtime gave them (undefined: it was not read).
 */
export async function checkClaim(t: ProxyTarget): Promise<Map<string, LiveServer[]> | undefined> {
  return (await planClaim(t, (await proxyState(t)) === 'running')).liveServers;
}

/** Whether the host has this target's proxy container, and whether it runs. */
export async function proxyState(t: ProxyTarget): Promise<'absent' | 'stopped' | 'running'> {
  const docker = await t.host.docker();
  const found = await inspectOrUndefined(docker.getContainer(t.containerName ?? PROXY_CONTAINER_NAME));
  return !found ? 'absent' : found.State.Running ? 'running' : 'stopped';
}

/** The runtime changes that turn the running proxy's maps from `before` into `after`; how many. */
export async function applyMapChanges(t: ProxyTarget, before: ProxyLayout, after: ProxyLayout): Promise<number> {
  const changes = mapChanges(mapContents(before), mapContents(after));
  const api = runtimeApi(t);
  for (const c of changes) await api.run(mapCommand(c));
  return changes.length;
}

/**
 * Brings the host's proxy to the wanted image, ports and settings without losing any service's
 * routes, and gives this target its slot and routes: every service's servers, slots and routes
 * come from the live runtime when it answers, else from the files gangway wrote. Route and slot
 * changes go through the runtime API (no reload); a setting only the file holds (a slot's
 * expected status or check timeout, or the move from the single-service layout) is applied with a
 * seamless reload (seamless-reload.ts: connections closed after their response for a moment,
 * then SIGUSR2 to the master), never a restart.
 */
export async function ensureProxy(t: ProxyTarget, opts: EnsureProxyOptions): Promise<EnsureProxyResult> {
  const started = Date.now();
  t.events?.step('proxy', 'start', { host: t.host.name, message: `ensure ${opts.image}` });
  const docker = await t.host.docker();
  await ensureNetwork(docker, networkOf(t), opts.labels);
  const [imageId, identity] = await Promise.all([ensureImagePresent(t, docker, opts.image), readProxyIdentity(t, opts.uid)]);
  const spec = wantedSpec(t, opts, identity, opts.httpsPort === undefined ? await inspectOrUndefined(docker.getContainer(t.containerName ?? PROXY_CONTAINER_NAME)) : undefined);
  const name = spec.name ?? PROXY_CONTAINER_NAME;
  // Read, decide and apply under the host's route lock: another service deploying to this host
  // at the same instant would otherwise read the same free slot.
  const { containerId, action, migrated } = await withRouteLock(t, (held) => bringUp(t, docker, spec, imageId, opts, held));
  await reconcileRoutes(t);
  t.events?.step('proxy', 'done', { host: t.host.name, message: `${name} ${action}`, durationMs: Date.now() - started });
  return { containerId, action, ...(migrated ? { migrated: true } : {}) };
}

/**
 * This target's routes repaired: a server whose container moved follows it; one whose container
 * is gone (removed by hand while the proxy, or its files, kept the server) is taken out, so
 * nothing is routed to an address another container may take, and a new container of that name
 * can be added (a deploy of the same version again).
 */
async function reconcileRoutes(t: ProxyTarget): Promise<void> {
  const { moved, gone } = await routeDrift(t);
  await followMoved(t, moved);
  if (gone.length === 0) return;
  for (const g of gone) await removeServerAtRuntime(t, g.name);
  await syncConfig(t);
  t.events?.log(`proxy routes to containers that no longer exist taken out: ${gone.map((g) => g.name).join(', ')}`, { level: 'warn', host: t.host.name, step: 'proxy' });
}

/**
 * Read only, never throws: whether ensureProxy would find nothing to do on this host (the proxy
 * runs the wanted image and settings, this target's slot and routes are in place, the files match
 * and no server's container moved). A deploy asks it while it pulls and skips ensureProxy after
 * the pull where it is true; any doubt (an error, a conflict) is false and ensureProxy decides.
 */
export async function proxyUpToDate(t: ProxyTarget, opts: EnsureProxyOptions): Promise<boolean> {
  try {
    const docker = await t.host.docker();
    const [network, id, read, existing] = await Promise.all([
      inspectOrUndefined(docker.getNetwork(networkOf(t))),
      imageId(docker, opts.image),
      // One exec for the identity, the files and whether the certificate files are there: each
      // would be a round trip on the path when the pull has nothing to pull.
      t.host.exec(`${proxyIdentityCommand(opts.uid ?? PROXY_UID).command}\n${readLayoutCommand(dirOf(t)).command}\n${certFilesPresentCommand(dirOf(t)).command}`),
      inspectOrUndefined(docker.getContainer(t.containerName ?? PROXY_CONTAINER_NAME)),
    ]);
    const identity = read.code === 0 ? parseProxyIdentity(read.stdout, opts.uid ?? PROXY_UID) : undefined;
    if (read.code === 0 && certFilesPresent(read.stdout)) rememberCertFiles(t);
    if (!network || !id || !existing?.State.Running || !identity?.ok) return false;
    rememberNetwork(docker, networkOf(t));
    const spec = wantedSpec(t, opts, identity.identity, existing);
    const stored = parseLayoutFiles(read.stdout);
    const plan = await planClaim(t, true);
    if (proxyWork({ existing, spec, imageId: id, plan, stored }) !== 'none') return false;
    const drift = await routeDrift(t);
    return drift.moved.length === 0 && drift.gone.length === 0;
  } catch {
    return false;
  }
}

/** The wanted container; without an https_port of its own (no TLS), the one the running proxy publishes for another service is kept. */
function wantedSpec(t: ProxyTarget, opts: EnsureProxyOptions, identity: ProxyIdentity, existing: Docker.ContainerInspectInfo | undefined): ReturnType<typeof proxyContainerSpec> {
  const kept = opts.httpsPort === undefined ? publishedHttpsPort(existing) : undefined;
  return proxyContainerSpec({ ...opts, ...(kept !== undefined ? { httpsPort: kept } : {}), ...identity, network: networkOf(t), containerName: t.containerName, hostDir: t.hostDir });
}

/**
 * Pure: what bringing the proxy up takes. `create`: no container, or one of another image or
 * settings; `start`: stopped; `reload`: a setting only the file holds, or the single-service
 * layout; `runtime`: route or slot changes, or files that differ; `none`: nothing.
 */
export function proxyWork(o: { existing: Docker.ContainerInspectInfo | undefined; spec: { Labels?: Record<string, string> }; imageId: string; plan: { before: ProxyLayout; after: ProxyLayout; legacyRuntime: boolean }; stored: StoredFiles | undefined }): 'create' | 'start' | 'reload' | 'runtime' | 'none' {
  const { existing, plan, stored } = o;
  const current = existing?.Config.Labels?.[PROXY_LABEL.spec] === o.spec.Labels?.[PROXY_LABEL.spec] && existing?.Image === o.imageId;
  if (!existing || !current) return 'create';
  if (!existing.State.Running) return 'start';
  const wanted = renderLayoutFiles(plan.after);
  if (plan.legacyRuntime || stored?.config === undefined || needsReload(stored.config, wanted.config)) return 'reload';
  const changed = mapChanges(mapContents(plan.before), mapContents(plan.after)).length > 0;
  const repaired = stored.config !== renderLayoutFiles(plan.before).config;
  return changed || repaired || !storedFilesMatch(stored, wanted) ? 'runtime' : 'none';
}

async function bringUp(t: ProxyTarget, docker: Docker, spec: ReturnType<typeof proxyContainerSpec>, imageId: string, opts: EnsureProxyOptions, held: RouteLockHeld): Promise<EnsureProxyResult> {
  const name = spec.name ?? PROXY_CONTAINER_NAME;
  const existing = await inspectOrUndefined(docker.getContainer(name));
  const running = existing?.State.Running === true;

  const plan = await planClaim(t, running);
  const wanted = renderLayoutFiles(plan.after);
  const stored = existing ? await readStoredFiles(t) : undefined;
  const work = proxyWork({ existing, spec, imageId, plan, stored });

  let action: EnsureProxyResult['action'];
  let containerId: string;
  if (existing && work !== 'create') {
    containerId = existing.Id;
    if (work === 'start') {
      await removeDeadSocket(t);
      await writeLayoutFiles(t, await startingFiles(t, docker, plan.after));
      await docker.getContainer(existing.Id).start();
      await waitRuntimeReady(t, docker, existing.Id, opts.readyTimeoutMs);
      action = 'started';
    } else if (work === 'reload') {
      // The move from the single-service layout (its proxy has no maps to change), or a setting
      // only the file holds: a new worker reads the files, which hold every runtime server. They
      // are rendered from a fresh reading just before the signal: another service's deploy may
      // add a server at runtime (without this lock) during the reload's closing wait.
      const writeFiles = async () => writeLayoutFiles(t, renderLayoutFiles((await planClaim(t, true)).after));
      await seamlessReload(t, docker, existing.Id, { writeFiles, ...(opts.readyTimeoutMs !== undefined ? { readyTimeoutMs: opts.readyTimeoutMs } : {}) });
      if (plan.legacyRuntime) t.events?.log('the proxy moved from the single-service layout to the shared one (one seamless reload)', { host: t.host.name, step: 'proxy' });
      action = 'reloaded';
    } else {
      // Routes and slots change at runtime, touching no other service's connections; then the
      // files follow. A file that differed from the runtime is repaired on the way, no reload.
      const changed = await applyMapChanges(t, plan.before, plan.after);
      const repaired = stored?.config !== renderLayoutFiles(plan.before).config;
      // Files already as wanted (most deploys: same proxy, same routes) are not written again; the
      // write is the last command under the lock, so it releases the lock too.
      if (work === 'runtime') await writeLayoutFiles(t, wanted, held);
      if (repaired) t.events?.log('haproxy.cfg differed from the running proxy; rewritten from the runtime state (no reload)', { level: 'warn', host: t.host.name, step: 'proxy' });
      action = changed > 0 ? 'routed' : repaired ? 'file-repaired' : 'unchanged';
    }
  } else {
    if (existing) await docker.getContainer(existing.Id).remove({ force: true });
    await removeDeadSocket(t);
    await writeLayoutFiles(t, await startingFiles(t, docker, plan.after));
    const created = await createContainer(docker, spec);
    await created.start();
    await waitRuntimeReady(t, docker, created.id, opts.readyTimeoutMs);
    containerId = created.id;
    action = existing ? 'recreated' : 'created';
  }
  return { containerId, action, ...(plan.legacyRuntime ? { migrated: true } : {}) };
}

/**
 * The files a proxy starts from, without the servers whose containers no longer exist (removed
 * by hand while the files kept them): HAProxy would load such a server unresolved, route to
 * nothing there, and neither delete it nor point it elsewhere later, so a new container of that
 * name (the same version deployed again) could not be added.
 */
async function startingFiles(t: ProxyTarget, docker: Docker, layout: ProxyLayout): Promise<ReturnType<typeof renderLayoutFiles>> {
  const names = layout.slots.flatMap((slot) => slot.servers.map((server) => server.name));
  const found = await Promise.all(names.map(async (name) => ({ name, gone: !(await inspectOrUndefined(docker.getContainer(name))) })));
  const gone = new Set(found.filter((f) => f.gone).map((f) => f.name));
  if (gone.size > 0) t.events?.log(`the proxy starts without the servers of containers that no longer exist: ${[...gone].join(', ')}`, { level: 'warn', host: t.host.name, step: 'proxy' });
  return renderLayoutFiles(gone.size > 0 ? withoutServers(layout, gone) : layout);
}

/** Stops and removes the proxy container (config directory left in place). */
export async function removeProxy(t: ProxyTarget): Promise<void> {
  const docker = await t.host.docker();
  const c = docker.getContainer(t.containerName ?? PROXY_CONTAINER_NAME);
  await c.remove({ force: true }).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });
}

/** Networks found or made on an engine during this command (the app's and the proxy's are one). */
const ensuredNetworks = new WeakMap<Docker, Set<string>>();

function rememberNetwork(docker: Docker, network: string): void {
  const known = ensuredNetworks.get(docker) ?? new Set<string>();
  known.add(network);
  ensuredNetworks.set(docker, known);
}

/** The app network on this engine, created (labelled gangway's) when missing; shared with setup and deploy. */
export async function ensureNetwork(docker: Docker, network: string, labels: Record<string, string> = {}): Promise<void> {
  if (ensuredNetworks.get(docker)?.has(network)) return;
  const found = await inspectOrUndefined(docker.getNetwork(network));
  if (!found) {
    await docker.createNetwork({ Name: network, Driver: 'bridge', CheckDuplicate: true, Labels: { ...labels, 'gangway.managed': 'network' } }).catch((err: { statusCode?: number }) => {
      // Another process created it between our check and our create.
      if (err.statusCode !== 409) throw err;
    });
  }
  rememberNetwork(docker, network);
}

/** The image's id on the host, pulled when missing; `of` names whose image, the config key naming it, and what to do when it is missing. */
export async function ensureImagePresent(t: ProxyTarget, docker: Docker, image: string, of: { what: string; key: string; hint?: string } = { what: 'proxy', key: 'proxy.image' }): Promise<string> {
  const found = await imageId(docker, image);
  if (found) return found;
  try {
    await pullImage(docker, image);
    return await pulledImageId(docker, image);
  } catch (err) {
    throw proxyError(t, `the ${of.what} image ${image} is not on ${t.host.name} and cannot be pulled: ${messageOf(err)}`, {
      hint: of.hint ?? `set ${of.key} to an image the host can pull, or build one locally (see \`gangway sandbox\`)`,
      cause: err,
    });
  }
}

