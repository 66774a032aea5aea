// Booting one target: start the new container beside the old one, gate it on health and
// uptests. Nothing here touches live traffic.
import { createAndStart, removeContainer, removeLeftoverAppContainer, writeAppEnvFile, type AppContainerInput } from '../app/container.js';
import { GangwayError } from '../errors.js';
import { discardUptests, gates, listUptestsOnce, prepareUptests, runGates, type GateResult, type PreparedUptests } from '../gates/gates.js';
import type { DeployPlan } from './plan.js';
import { proxiedHealthGate } from '../gates/proxied-health.js';
import type { Host } from '../hosts/host.js';
import { hostOf, proxyOf, type DeployRun, type Fail } from './context.js';
import { transition, type DeployTarget } from './phases.js';
import { APP_NETWORK } from '../fleet/prepare.js';

/** What a boot reports to, and is stopped by. */
export interface BootHooks {
  version: string;
  signal: AbortSignal;
  fail: Fail;
  onHealthy: (t: DeployTarget) => void;
  onUnhealthy: (t: DeployTarget) => void;
}

/** Start the new container beside the old one and gate it; never touches live traffic. */
export async function bootTarget(run: DeployRun, t: DeployTarget, hooks: BootHooks): Promise<void> {
  const { version, signal, fail, onHealthy, onUnhealthy } = hooks;
  const { events } = run.s;
  const ev = { host: t.host, role: t.role };
  if (t.alreadyLive) {
    events.log(`${t.newContainer} is already live`, ev);
    transition(t, 'started');
    transition(t, 'healthy');
    onHealthy(t);
    transition(t, 'uptested');
    return;
  }
  if (signal.aborted) return;
  try {
    const started = await startNew(run, t, { version, signal });
    if (!started || signal.aborted) return;
    await gateNew(run, t, hooks);
  } catch (err) {
    if (t.state === 'started' || t.state === 'pulled') onUnhealthy(t);
    fail(err, t);
  }
}

/** Starts the new container (after sweeping a rerun's leftovers); false when an abort came first. */
async function startNew(run: DeployRun, t: DeployTarget, o: { version: string; signal: AbortSignal }): Promise<boolean> {
  const { s, ref } = run;
  const host = hostOf(run, t.host);
  const { version, signal } = o;
  const cfg = s.loaded.config;
  const { events } = s;
  const role = s.loaded.roles.find((r) => r.name === t.role)!;
  const ev = { host: t.host, role: t.role };
  const input: AppContainerInput = {
    deployment: s.deployment,
    role: t.role,
    version,
    image: ref,
    ...(role.cmd ? { cmd: role.cmd } : {}),
    envClear: role.env,
    envSecret: s.envSecret,
    network: APP_NETWORK,
    appPort: cfg.proxy.app_port,
    volumes: cfg.volumes,
  };
  // A rerun after an interrupted deploy finds the container of this version: never a second copy.
  // The sweeps and the env file's write are independent round trips to an often busy host: at once.
  const [leftover, leftoverUptests] = await Promise.all([
    removeLeftoverAppContainer(host, t.newContainer, s.deployment),
    removeLeftoverUptests(host, t.newContainer),
    writeAppEnvFile(host, input),
  ]);
  if (leftover) events.log(`removed a leftover ${t.newContainer}`, { ...ev, step: 'start' });
  for (const name of leftoverUptests) events.log(`removed a leftover uptest container ${name}`, { ...ev, step: 'start' });
  // The leftover sweep takes round trips: a signal that came meanwhile starts nothing new.
  if (signal.aborted) return false;
  const t0 = Date.now();
  events.step('start', 'start', { ...ev, message: t.newContainer });
  await createAndStart(host, input);
  transition(t, 'started');
  events.step('start', 'done', { ...ev, message: t.newContainer, durationMs: Date.now() - t0 });
  return true;
}

/** Gates the started container: health (proxy and container), then the uptests. */
async function gateNew(run: DeployRun, t: DeployTarget, hooks: BootHooks): Promise<void> {
  const { s, ref } = run;
  const host = hostOf(run, t.host);
  const { signal, onHealthy, onUnhealthy } = hooks;
  const cfg = s.loaded.config;
  const { events } = s;
  const role = s.loaded.roles.find((r) => r.name === t.role)!;
  const ev = { host: t.host, role: t.role };
  // The uptests' container is removed after the switch (run.cleanups), not before it: what
  // users wait for is the switch, and the removal takes a round trip to a busy engine.
  const listed = run.uptestListings.get(t.role);
  const uptestInput = { host, image: ref, role: t.role, uptestsPath: cfg.uptests.path, targetName: t.newContainer, appPort: cfg.proxy.app_port, network: APP_NETWORK, sharesNetworkOf: t.newContainer, env: { ...role.env, ...s.envSecret }, timeoutMs: cfg.uptests.timeout, parallel: cfg.uptests.parallel, defer: (cleanup: Promise<void>) => run.cleanups.push(cleanup), ...(listed ? { shared: { listing: listed.listing, imageId: run.imageIds.get(t.host), own: listed.host === t.host } } : {}) };
  // Listed and created (the one runner even started, waiting for its go) while the health gate
  // waits, once the proxy checks the container so the listing's round trips do not delay its
  // first check; no uptest runs before the gate passed.
  let prepared: Promise<PreparedUptests> | undefined;
  const prepare = (): Promise<PreparedUptests> => {
    if (!prepared) {
      prepared = prepareUptests(uptestInput);
      prepared.catch(() => {}); // reported by the gate that awaits it
    }
    return prepared;
  };
  let uptest: GateResult | undefined;
  try {
    const health = await proxiedHealthGate({ host, hostName: t.host, role: t.role, container: t.newContainer, proxy: t.proxied ? proxyOf(run, t.host) : undefined, timeoutMs: cfg.deploy_timeout, events, signal, onChecking: prepare });
    if (!health.passed) {
      onUnhealthy(t);
      throw new GangwayError('operation', `${t.newContainer} is not healthy: ${health.message}`, { ...ev, step: 'health', details: health.details });
    }
    transition(t, 'healthy');
    onHealthy(t);
    if (signal.aborted) return;
    [uptest] = await runGates([gates.uptests({ ...uptestInput, prepared: prepare() })], { host, container: t.newContainer, role: t.role }, { events, signal });
  } finally {
    // Containers whose uptests never ran (health failed, an abort); the gate removes its own.
    if (uptest === undefined) await discardUptests(host, prepared);
  }
  if (uptest && !uptest.passed) {
    throw new GangwayError('operation', `${t.newContainer} failed its uptests: ${uptest.message}`, { ...ev, step: 'uptests', details: uptest.details });
  }
  transition(t, 'uptested');
}

/**
 * Lists each role's uptests once, from the image on one of the role's hosts, while the
 * boots begin: the other hosts, whose image has the same id (one version tag names one image),
 * use that listing instead of a probe container of their own (issue 16: one probe per role, not
 * per host). A host whose image differs, or a listing that failed, lists on the host itself.
 * A role listed while its image was pulled (listWhilePulling) is not listed again.
 */
export function shareUptestListings(run: DeployRun, plan: DeployPlan): void {
  for (const role of run.s.loaded.roles) {
    if (run.uptestListings.has(role.name)) continue;
    // The role's last host: the first one (the primary's) gates the other roles' boots, and the
    // probe beside its app container's start slows that start.
    const lister = plan.targets.filter((t) => t.role === role.name && !t.alreadyLive).at(-1);
    if (lister) startListing(run, role.name, lister.host);
  }
}

/**
 * The pull's `onPulled`: a role's listing starts on the first of its hosts to have the image while
 * another of its hosts still pulls, so its probe container runs on a host that would otherwise
 * wait, not beside an app container's start (measured on two hosts at 320 req/s: the lister's
 * start took 1.1-1.4 s where the other host's took 0.5-0.6 s). A role whose hosts all had it at
 * once is listed as the boots begin (shareUptestListings).
 */
export function listWhilePulling(run: DeployRun): (host: string) => void {
  const pulling = new Set(run.hosts.keys());
  return (host) => {
    pulling.delete(host);
    for (const role of run.s.loaded.roles) {
      if (run.uptestListings.has(role.name) || !role.hosts.includes(host)) continue;
      if (role.hosts.some((h) => pulling.has(h))) startListing(run, role.name, host);
    }
  };
}

function startListing(run: DeployRun, role: string, hostName: string): void {
  const imageId = run.imageIds.get(hostName);
  if (!imageId) return;
  const listing = listUptestsOnce({ host: hostOf(run, hostName), image: run.ref, role, uptestsPath: run.s.loaded.config.uptests.path, defer: (cleanup) => run.cleanups.push(cleanup) }, imageId);
  run.uptestListings.set(role, { host: hostName, listing });
  run.cleanups.push(listing.then(() => {}, () => {}));
}

/** Uptest containers of this target left by a deploy that was killed while they ran. */
async function removeLeftoverUptests(host: Host, target: string): Promise<string[]> {
  const docker = await host.docker();
  const leftovers = await docker.listContainers({ all: true, filters: { label: [`gangway.uptest_of=${target}`] } });
  const names = leftovers.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, ''));
  for (const c of leftovers) await removeContainer(host, c.Id);
  return names;
}
