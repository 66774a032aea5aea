// Executes a deploy plan: lock, pull, boot each (host, role) beside the old version, gate it on
// health (from the proxy's side and the image's HEALTHCHECK) and uptests, switch, and only when
// every host passed, drain and stop the old containers. Any failure undoes what was started, so
// every host ends on the version it had.
import { containerLogsTail, findContainers, removeContainer, startAppContainer, stopContainer } from '../app/container.js';
import { GangwayError, messageOf, operationError } from '../errors.js';
import type { Host } from '../hosts/host.js';
import { containerGateFor, discardUptests, gates, prepareUptests, runGates, type GateResult } from '../gates/gates.js';
import { performer, runAfterHook, runHook } from '../hooks/hooks.js';
import { readServers } from '../proxy/live-servers.js';
import { addCandidate, holdChecks, removeServer, switchTo } from '../proxy/runtime-operations.js';
import { waitDrained, waitHealthy } from '../proxy/waits.js';
import { appendAuditEverywhere } from '../state/audit.js';
import { planRetention } from '../state/labels.js';
import { acquireLock, newLockDetails, releaseLock } from '../state/lock.js';
import { ensureImage, registryAuth } from './image.js';
import { observeHost } from './observe.js';
import { bootBatches, liveVersionOf, planDeploy, type DeployPlan, type ObservedHost } from './plan.js';
import { APP_NETWORK, assertDockerReady, prepareHosts } from './prepare.js';
import type { ResolvedRole } from '../config/resolve.js';
import { connectAll, hookContextFor, imageRef, primaryHostOf, proxyTarget, type Session } from './session.js';
import { hasStarted, hasSwitched, transition, type DeployTarget } from './phases.js';

export type DeployAction = 'deploy' | 'rollback' | 'setup';

export interface DeployOptions {
  version: string;
  action: DeployAction;
  message?: string;
  lockWaitMs?: number;
  /** Aborted on SIGINT/SIGTERM: no new work starts, every host is brought back to one version. */
  signal?: AbortSignal;
  /** Pull even when the image is on the host (default: only when a registry is configured). */
  alwaysPull?: boolean;
  /** When the command started (epoch ms; default: now): the origin of timeToLiveMs and totalMs. */
  startedAt?: number;
}

export interface DeployOutcome {
  version: string;
  plan: DeployPlan;
  /** Version each (host, role) serves at the end, read back from the hosts. */
  endState: Array<{ host: string; role: string; version?: string; unreachable?: boolean }>;
  durationMs: number;
  /** From the command's start until every (host, role) served the new version. */
  timeToLiveMs: number;
  /** From the command's start until its end: old versions stopped, audit written, post-deploy run. */
  totalMs: number;
}

/** How long a container without HEALTHCHECK must stay up, for roles the proxy does not check. */
const SETTLE_UNPROXIED_MS = 3000;
/** For proxied roles the proxy's HTTP check is the real gate; this only catches an early exit. */
const SETTLE_PROXIED_MS = 1000;
const STOP_GRACE_MS = 10_000;
/** Fallback poll of the container gates; Docker's events usually answer first. */
const HEALTH_POLL_MS = 200;
const LOG_LINES_ON_FAILURE = 30;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export async function runDeploy(s: Session, opts: DeployOptions): Promise<DeployOutcome> {
  const started = Date.now();
  const cfg = s.loaded.config;
  const { events } = s;
  const service = cfg.service;
  const ref = imageRef(s, opts.version);
  const hosts = await connectAll(s);
  // Only setup installs Docker; anything else stops here, before the lock, saying so.
  await assertDockerReady([...hosts.values()]);
  const primaryHost = primaryHostOf(s);
  const proxied = new Set(s.loaded.roles.filter((r) => r.proxied).flatMap((r) => r.hosts));

  const lockHost = hosts.get(primaryHost)!;
  events.step('lock', 'start', { host: primaryHost });
  const lock = await acquireLock(lockHost, newLockDetails({ service, version: opts.version, message: opts.message ?? `${opts.action} ${opts.version}` }), {
    waitMs: opts.lockWaitMs ?? 0,
    onWaiting: (holder) => events.log(`waiting for the deploy lock held by ${holder?.holder ?? 'someone'}`, { host: primaryHost, step: 'lock' }),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  events.step('lock', 'done', { host: primaryHost });

  // Both deploy hooks run under the lock: a deploy that loses the race for it runs neither, and
  // post-deploy sees the hosts as this deploy left them, not as a competing one changes them.
  // Rollback and setup run them too (GANGWAY_COMMAND tells them apart), as Kamal's rollback does.
  const hookCtx = hookContextFor(s.loaded, opts.action, opts.version, [...hosts.keys()]);
  const hookOpts = { projectDir: s.loaded.baseDir, events };
  let outcome: LockedOutcome | undefined;
  let failure: unknown;
  let postDeployFailure: string | undefined;
  try {
    try {
      await runHook('pre-deploy', hookCtx, hookOpts);
      outcome = await deployLocked(s, opts, hosts, proxied, ref, started);
    } catch (err) {
      failure = err;
    }
    const result = failure ? 'failed' : 'ok';
    const auditMessage = failure ? `${opts.action} ${opts.version} failed: ${messageOf(failure)}` : `${opts.action} ${opts.version}`;
    const audit = await appendAuditEverywhere([...hosts.values()], service, {
      ts: new Date().toISOString(),
      user: performer(),
      action: opts.action,
      version: opts.version,
      result,
      message: auditMessage,
    }, { redact: (t) => events.redact(t) });
    for (const a of audit) if (a.error) events.log(`audit log not written: ${a.error}`, { level: 'warn', host: a.host, step: 'audit' });
    // The new version is live everywhere: a failing post-deploy is a warning, never a failure.
    if (!failure) postDeployFailure = await runAfterHook('post-deploy', { ...hookCtx, extra: { GANGWAY_RUNTIME: String(Math.round((Date.now() - started) / 1000)) } }, hookOpts);
  } finally {
    await releaseLock(lockHost, service, lock.id).catch((err: unknown) => {
      events.log(`could not release the deploy lock: ${messageOf(err)}`, { level: 'warn', host: primaryHost, step: 'lock' });
    });
  }

  if (failure) throw failure;
  // One `done` per command, after everything, post-deploy included.
  const timing = { timeToLiveMs: outcome!.timeToLiveMs, totalMs: Math.round(Date.now() - (opts.startedAt ?? started)) };
  events.result('timing', { ...timing }, {});
  const did = `${opts.action === 'rollback' ? 'rolled back to' : 'deployed'} ${opts.version} on ${[...hosts.keys()].join(', ')} in ${seconds(timing.totalMs)} (live after ${seconds(timing.timeToLiveMs)})`;
  events.emit({ type: 'done', ok: true, command: opts.action, exitCode: 0, message: postDeployFailure ? `${did} (warning: ${postDeployFailure})` : did });
  return { ...outcome!, ...timing };
}

/** What the locked part of a deploy knows: the total is measured by runDeploy, at the command's end. */
type LockedOutcome = Omit<DeployOutcome, 'totalMs'>;

async function deployLocked(s: Session, opts: DeployOptions, hosts: Map<string, Host>, proxied: Set<string>, ref: string, started: number): Promise<LockedOutcome> {
  // What serves keeps serving whatever the deploy's own work does to the hosts' speed: the
  // servers that carry traffic are held (no active check) before anything else, the pull included.
  // A proxy restarted since the last deploy checks the servers it loaded from its file again.
  await holdServing(s, hosts, proxied, { quiet: true });
  return deployHeld(s, opts, hosts, proxied, ref, started);
}

/** Holds the checks of the serving servers on every proxied host that has a proxy answering. */
async function holdServing(s: Session, hosts: Map<string, Host>, proxied: Set<string>, opts: { quiet: boolean }): Promise<void> {
  await Promise.all([...proxied].map(async (name) => {
    const host = hosts.get(name);
    if (!host) return;
    try {
      const held = await holdChecks(proxyTarget(s, host));
      if (held.length > 0) s.events.log(`active checks held on ${held.join(', ')}: a server that serves is never taken out by a check`, { host: name, step: 'proxy' });
    } catch (err) {
      // No proxy yet (a first setup): nothing serves, nothing to hold. prepare says more if it fails.
      if (!opts.quiet) s.events.log(`could not hold the proxy's checks: ${messageOf(err)}`, { level: 'warn', host: name, step: 'proxy' });
    }
  }));
}

async function deployHeld(s: Session, opts: DeployOptions, hosts: Map<string, Host>, proxied: Set<string>, ref: string, started: number): Promise<LockedOutcome> {
  const cfg = s.loaded.config;
  const { events } = s;
  // Nothing changes on any host until every host has the image and a working proxy.
  await pullEverywhere(s, hosts, ref, opts);
  if (opts.signal?.aborted) throw interruptedBeforeChanges(opts);
  await prepareHosts(s, hosts, proxied);
  // A proxy that prepare started or recreated loaded its servers from the file, checked.
  await holdServing(s, hosts, proxied, { quiet: false });
  const observed = await observeAll(s, hosts, proxied);
  const plan = planDeploy({ service: cfg.service, version: opts.version, roles: s.loaded.roles, observed });
  for (const t of plan.targets) transition(t, 'pulled');

  const abort = new AbortController();
  const failures: GangwayError[] = [];
  // Failures recorded when the user interrupted: a gate cut short by the interrupt ("aborted")
  // comes after it and is its consequence, not a verdict on the version.
  let failuresAtInterrupt: number | undefined;
  const onSignal = () => {
    failuresAtInterrupt ??= failures.length;
    abort.abort();
  };
  opts.signal?.addEventListener('abort', onSignal, { once: true });
  // A signal that came during the pull or the proxy preparation fired before this listener.
  if (opts.signal?.aborted) onSignal();
  const fail = (err: unknown, t?: DeployTarget) => {
    const gerr = err instanceof GangwayError ? err : operationError(messageOf(err), { ...(t ? { host: t.host, role: t.role } : {}), cause: err });
    failures.push(gerr);
    if (t) transition(t, 'failed');
    abort.abort();
  };

  let liveAt = 0;
  try {
    await bootAll(s, plan, hosts, ref, abort.signal, fail);
    liveAt = Date.now();
    if (failuresAtInterrupt === 0) {
      failures.unshift(new GangwayError('interrupted', 'interrupted', { step: 'deploy' }));
    }
    if (failures.length > 0) {
      await undo(s, plan, hosts);
      const end = await endState(s, hosts, proxied);
      reportEnd(s, end);
      throw summarise(failures, end, opts);
    }
    await finalize(s, plan, hosts, opts.version);
  } finally {
    opts.signal?.removeEventListener('abort', onSignal);
  }
  const end = await endState(s, hosts, proxied);
  reportEnd(s, end);
  // Time to live: from the command's start until every (host, role) served the new version.
  return { version: opts.version, plan, endState: end, durationMs: Date.now() - started, timeToLiveMs: Math.round(liveAt - (opts.startedAt ?? started)) };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

async function pullEverywhere(s: Session, hosts: Map<string, Host>, ref: string, opts: DeployOptions): Promise<void> {
  const cfg = s.loaded.config;
  const auth = registryAuth(cfg);
  // A version tag names one image (release refuses to re-push it with another digest), so an
  // image already on the host is that version: no registry round trip.
  const alwaysPull = opts.alwaysPull ?? false;
  const errors: GangwayError[] = [];
  await Promise.all(
    [...hosts.values()].map(async (host) => {
      const t0 = Date.now();
      s.events.step('pull', 'start', { host: host.name, message: ref });
      try {
        const r = await ensureImage(host, ref, { alwaysPull, ...(auth ? { auth } : {}), timeoutMs: cfg.pull_timeout });
        s.events.step('pull', 'done', { host: host.name, message: r.pulled ? ref : `${ref} (present)`, durationMs: Date.now() - t0 });
      } catch (err) {
        s.events.step('pull', 'fail', { host: host.name, message: messageOf(err) });
        errors.push(err instanceof GangwayError ? err : operationError(messageOf(err), { host: host.name, step: 'pull' }));
      }
    }),
  );
  if (errors.length > 0) {
    const order = [...hosts.keys()];
    errors.sort((a, b) => order.indexOf(a.host ?? '') - order.indexOf(b.host ?? ''));
    throw new GangwayError('operation', `${ref} is not available on ${errors.map((e) => e.host).join(', ')}; nothing was changed`, {
      step: 'pull',
      details: errors.map((e) => e.message),
      ...(errors[0]!.hint ? { hint: errors[0]!.hint } : {}),
    });
  }
}

async function observeAll(s: Session, hosts: Map<string, Host>, proxied: Set<string>): Promise<Map<string, ObservedHost>> {
  const entries = await Promise.all(
    [...hosts.values()].map(async (h) => [h.name, await observeHost(h, s.loaded.config.service, proxied.has(h.name) ? proxyTarget(s, h) : undefined)] as const),
  );
  return new Map(entries);
}

type Fail = (err: unknown, t?: DeployTarget) => void;

/**
 * Every role boots in batches of `boot.limit` of its own hosts (`boot.wait` between batches) and
 * switches batch by batch, so no more than the limit of a role's hosts are between start and
 * switch at once. The primary role starts at once; the other roles wait for the first healthy
 * primary container (on the primary host), as Kamal does, then boot side by side.
 */
async function bootAll(s: Session, plan: DeployPlan, hosts: Map<string, Host>, ref: string, signal: AbortSignal, fail: Fail): Promise<void> {
  const cfg = s.loaded.config;
  const { events } = s;
  const primary = plan.primaryRole;
  const firstHealthy = deferred();
  const targetOf = (host: string, role: string) => plan.targets.find((t) => t.host === host && t.role === role)!;

  const primaryFirst = targetOf(plan.primaryHost, primary.name);
  const onHealthy = (t: DeployTarget) => { if (t === primaryFirst) firstHealthy.resolve(); };
  let unhealthyReported = false;
  const onUnhealthy = (t: DeployTarget) => {
    if (t !== primaryFirst || unhealthyReported) return;
    unhealthyReported = true;
    events.log(`First ${primary.name} container is unhealthy on ${t.host}, not booting any other roles`, { level: 'error', host: t.host, role: t.role });
    firstHealthy.reject(new Error('first primary container unhealthy'));
  };
  const ignore = () => {};

  const bootInBatches = async (role: ResolvedRole): Promise<void> => {
    const isPrimary = role === primary;
    for (const [i, batch] of bootBatches(role.hosts, cfg.boot.limit).entries()) {
      if (i > 0 && cfg.boot.wait > 0) await sleep(cfg.boot.wait, signal);
      if (signal.aborted) return;
      const targets = batch.map((h) => targetOf(h, role.name));
      await Promise.all(targets.map((t) => bootTarget(s, t, hosts.get(t.host)!, ref, plan.version, signal, fail, isPrimary ? onHealthy : ignore, isPrimary ? onUnhealthy : ignore)));
      if (signal.aborted) return;
      await Promise.all(targets.map((t) => switchTarget(s, t, hosts.get(t.host)!).catch((err: unknown) => fail(err, t))));
    }
  };

  const primaryJob = (async () => {
    await bootInBatches(primary);
    // A primary host that never got to boot (aborted earlier) must release the waiting roles.
    firstHealthy.reject(new Error('primary role did not become healthy'));
  })();

  const otherJobs = s.loaded.roles.filter((r) => r !== primary).map(async (role) => {
    // A role already live everywhere (a rerun) has nothing to wait for.
    const waiting = plan.targets.filter((t) => t.role === role.name && !t.alreadyLive);
    if (waiting.length > 0) {
      for (const t of waiting) events.log(`Waiting for the first healthy ${primary.name} container before booting ${t.role} on ${t.host}...`, { host: t.host, role: t.role });
      try {
        await firstHealthy.promise;
      } catch {
        for (const t of waiting) events.log(`First ${primary.name} container is unhealthy, not booting ${t.role} on ${t.host}`, { level: 'error', host: t.host, role: t.role });
        return;
      }
    }
    await bootInBatches(role);
  });

  await Promise.all([primaryJob, ...otherJobs]);
}

/** Start the new container beside the old one and gate it; never touches live traffic. */
async function bootTarget(
  s: Session,
  t: DeployTarget,
  host: Host,
  ref: string,
  version: string,
  signal: AbortSignal,
  fail: Fail,
  onHealthy: (t: DeployTarget) => void,
  onUnhealthy: (t: DeployTarget) => void,
): Promise<void> {
  const cfg = s.loaded.config;
  const { events } = s;
  const role = s.loaded.roles.find((r) => r.name === t.role)!;
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
    // A rerun after an interrupted deploy finds the container of this version: never a second copy.
    if (await removeContainer(host, t.newContainer)) events.log(`removed a leftover ${t.newContainer}`, { ...ev, step: 'start' });
    for (const name of await removeLeftoverUptests(host, t.newContainer)) events.log(`removed a leftover uptest container ${name}`, { ...ev, step: 'start' });
    // The leftover sweep takes round trips: a signal that came meanwhile starts nothing new.
    if (signal.aborted) return;
    const t0 = Date.now();
    events.step('start', 'start', { ...ev, message: t.newContainer });
    await startAppContainer(host, {
      service: cfg.service,
      role: t.role,
      version,
      image: ref,
      ...(role.cmd ? { cmd: role.cmd } : {}),
      envClear: role.env,
      envSecret: s.envSecret,
      network: APP_NETWORK,
      appPort: cfg.proxy.app_port,
      volumes: cfg.volumes,
    });
    transition(t, 'started');
    events.step('start', 'done', { ...ev, message: t.newContainer, durationMs: Date.now() - t0 });
    if (signal.aborted) return;

    // Listed and created while the health gate waits; started only once it passed.
    const uptestInput = { host, image: ref, role: t.role, uptestsPath: cfg.uptests.path, targetName: t.newContainer, appPort: cfg.proxy.app_port, network: APP_NETWORK, env: { ...role.env, ...s.envSecret }, timeoutMs: cfg.uptests.timeout, parallel: cfg.uptests.parallel };
    const prepared = prepareUptests(uptestInput);
    prepared.catch(() => {}); // reported by the gate that awaits it
    let uptest: GateResult | undefined;
    try {
      const health = await healthGate(s, t, host, signal);
      if (!health.passed) {
        onUnhealthy(t);
        throw new GangwayError('operation', `${t.newContainer} is not healthy: ${health.message}`, { ...ev, step: 'health', details: health.details });
      }
      transition(t, 'healthy');
      onHealthy(t);
      if (signal.aborted) return;
      [uptest] = await runGates([gates.uptests({ ...uptestInput, prepared })], { host, container: t.newContainer, role: t.role }, { events, signal });
    } finally {
      // Containers the gate did not start (health failed, an abort); the gate removes its own.
      if (uptest === undefined) await discardUptests(host, prepared);
    }
    if (uptest && !uptest.passed) {
      throw new GangwayError('operation', `${t.newContainer} failed its uptests: ${uptest.message}`, { ...ev, step: 'uptests', details: uptest.details });
    }
    transition(t, 'uptested');
  } catch (err) {
    if (t.state === 'started' || t.state === 'pulled') onUnhealthy(t);
    fail(err, t);
  }
}

/** Uptest containers of this target left by a deploy that was killed while they ran. */
async function removeLeftoverUptests(host: Host, target: string): Promise<string[]> {
  const docker = await host.docker();
  const leftovers = await docker.listContainers({ all: true, filters: { label: [`gangway.uptest_of=${target}`] } });
  const names = leftovers.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, ''));
  for (const c of leftovers) await removeContainer(host, c.Id);
  return names;
}

/**
 * Health, from the proxy's side for proxied roles (its HTTP check must pass) and from Docker's
 * (the image's HEALTHCHECK, or: still running after a settle time). A container that dies fails
 * at once, with its last log lines, instead of waiting out the deploy timeout.
 */
async function healthGate(s: Session, t: DeployTarget, host: Host, signal: AbortSignal): Promise<GateResult> {
  const cfg = s.loaded.config;
  const { events } = s;
  const ev = { host: t.host, role: t.role };
  const t0 = Date.now();
  events.step('health', 'start', { ...ev, message: t.newContainer });
  const docker = await host.docker();
  const info = await docker.getContainer(t.newContainer).inspect();
  const containerGate = containerGateFor(info, { timeoutMs: cfg.deploy_timeout, pollIntervalMs: HEALTH_POLL_MS, settleMs: Math.min(t.proxied ? SETTLE_PROXIED_MS : SETTLE_UNPROXIED_MS, cfg.deploy_timeout) });
  const local = new AbortController();
  const relay = () => local.abort();
  signal.addEventListener('abort', relay, { once: true });
  try {
    const containerCheck = containerGate.check({ host, container: t.newContainer, role: t.role }, { events, signal: local.signal });
    let result: GateResult;
    if (!t.proxied) {
      result = await containerCheck;
    } else {
      const pt = proxyTarget(s, host);
      try {
        await addCandidate(pt, { name: t.newContainer });
      } catch (err) {
        // A container that died at once has no address to add: its own exit is the real cause.
        const own = await containerCheck;
        return await withLogs(s, t, host, own.passed ? { gate: 'health', passed: false, message: messageOf(err), details: [], durationMs: Date.now() - t0 } : own, t0);
      }
      const proxyCheck: Promise<GateResult> = waitHealthy(pt, t.newContainer, cfg.deploy_timeout).then(
        (live) => ({ gate: 'health', passed: true, message: `proxy check ${live.checkStatus || 'UP'}`, details: [], durationMs: Date.now() - t0 }),
        (err: unknown) => ({ gate: 'health', passed: false, message: messageOf(err), details: [], durationMs: Date.now() - t0 }),
      );
      // Whichever fails first decides; both must pass.
      const first = await Promise.race([containerCheck.then((r) => ({ r, which: 'container' as const })), proxyCheck.then((r) => ({ r, which: 'proxy' as const }))]);
      if (!first.r.passed) result = first.r;
      else {
        const other = first.which === 'container' ? await proxyCheck : await containerCheck;
        result = other.passed ? { ...first.r, message: `${first.r.message}; ${other.message}` } : other;
      }
    }
    return await withLogs(s, t, host, result, t0);
  } finally {
    local.abort();
    signal.removeEventListener('abort', relay);
  }
}

/** Ends the health step: a failure carries the container's last log lines (the real cause). */
async function withLogs(s: Session, t: DeployTarget, host: Host, result: GateResult, t0: number): Promise<GateResult> {
  const ev = { host: t.host, role: t.role };
  if (result.passed) {
    s.events.step('health', 'done', { ...ev, message: result.message, durationMs: Date.now() - t0 });
    return result;
  }
  const logs = await containerLogsTail(host, t.newContainer, LOG_LINES_ON_FAILURE).catch(() => [] as string[]);
  const details = [...result.details];
  if (logs.length > 0 && !details.some((d) => logs.includes(d))) details.push(`last log lines of ${t.newContainer}:`, ...logs.map((l) => `  ${l}`));
  s.events.step('health', 'fail', { ...ev, message: result.message, durationMs: Date.now() - t0 });
  return { ...result, details };
}

/** Proxied: new server ready, old ones drained. Others: the new container is simply the live one. */
async function switchTarget(s: Session, t: DeployTarget, host: Host): Promise<void> {
  if (t.state !== 'uptested') return;
  if (t.proxied && !t.alreadyLive) {
    const pt = proxyTarget(s, host);
    const live = await readServers(pt);
    const olds = live.filter((srv) => srv.name !== t.newContainer && srv.state === 'ready').map((srv) => srv.name);
    await switchTo(pt, t.newContainer, olds);
  }
  transition(t, 'switched');
  // Per (host, role), proxied or not: where a target's boot ends (boot.limit counts up to here).
  if (!t.alreadyLive) s.events.step('switch', 'done', { host: t.host, role: t.role, message: `${t.newContainer} is live` });
}

/** Every host switched: drain and stop the old containers, then prune beyond `retain`. */
async function finalize(s: Session, plan: DeployPlan, hosts: Map<string, Host>, version: string): Promise<void> {
  const cfg = s.loaded.config;
  const { events } = s;
  await Promise.all(
    plan.targets.map(async (t) => {
      const host = hosts.get(t.host)!;
      const ev = { host: t.host, role: t.role };
      const unremoved: string[] = [];
      try {
        if (t.proxied) {
          const pt = proxyTarget(s, host);
          const stale = (await readServers(pt)).filter((srv) => srv.name !== t.newContainer).map((srv) => srv.name);
          const t0 = Date.now();
          if (stale.length > 0) events.step('drain', 'start', { ...ev, message: stale.join(', ') });
          const drains = await Promise.all(stale.map((name) => waitDrained(pt, name, cfg.drain_timeout)));
          const cut = drains.reduce((n, d) => n + d.sessions, 0);
          if (stale.length > 0) events.step('drain', 'done', { ...ev, message: cut === 0 ? 'zero sessions' : `drain_timeout reached: ${cut} open session${cut === 1 ? '' : 's'} cut by the stop`, durationMs: Date.now() - t0 });
          // A server HAProxy will not delete yet (connections still attached, e.g. after an engine
          // restart moved addresses under it) takes no new traffic: the old container is stopped
          // anyway, which ends its connections, and the delete is tried again after the stop.
          for (const name of stale) await removeServer(pt, name).catch(() => unremoved.push(name));
        }
        transition(t, 'drained');
        for (const old of t.oldContainers) {
          const t0 = Date.now();
          events.step('stop', 'start', { ...ev, message: old });
          await stopContainer(host, old, STOP_GRACE_MS);
          events.step('stop', 'done', { ...ev, message: old, durationMs: Date.now() - t0 });
        }
        if (t.proxied) for (const name of unremoved) await removeServer(proxyTarget(s, host), name);
        transition(t, 'stopped-old');
        transition(t, 'done');
      } catch (err) {
        // Traffic is already on the new version; a leftover old container is reported, not undone.
        events.log(`finishing ${t.role} on ${t.host} failed: ${messageOf(err)}`, { ...ev, level: 'warn', step: 'finalize' });
      }
    }),
  );
  await Promise.all([...hosts.values()].map((h) => prune(s, h, version)));
}

async function prune(s: Session, host: Host, version: string): Promise<void> {
  const cfg = s.loaded.config;
  try {
    const containers = await findContainers(host, cfg.service);
    const plan = planRetention(containers, cfg.retain, [version]);
    if (plan.removeContainers.length === 0) return;
    const docker = await host.docker();
    for (const c of plan.removeContainers) await removeContainer(host, c.id);
    for (const id of plan.removeImageIds) await docker.getImage(id).remove().catch(() => {});
    s.events.step('prune', 'done', { host: host.name, message: plan.removeContainers.map((c) => c.name).join(', ') });
  } catch (err) {
    s.events.log(`pruning old versions failed: ${messageOf(err)}`, { level: 'warn', host: host.name, step: 'prune' });
  }
}

/** Waits between tries of a (host, role) undo: together they outlast an engine restart (measured 3-10 s). */
const UNDO_RETRY_DELAYS_MS = [2_000, 4_000, 8_000];

/**
 * Undo in reverse: switched hosts get their old server back first (it was drained, never
 * stopped), then every new container is taken out of the proxy and removed. Each step is
 * idempotent, so a (host, role) whose undo failed (its engine or proxy restarting) is tried again
 * a little later rather than left running two versions.
 */
async function undo(s: Session, plan: DeployPlan, hosts: Map<string, Host>): Promise<void> {
  const { events } = s;
  await Promise.all(
    plan.targets.map(async (t) => {
      if (t.alreadyLive || !hasStarted(t)) return;
      const host = hosts.get(t.host)!;
      const ev = { host: t.host, role: t.role };
      const t0 = Date.now();
      events.step('rollback', 'start', { ...ev, message: t.newContainer });
      for (let attempt = 0; ; attempt++) {
        try {
          await undoTarget(s, t, host);
          if (t.state !== 'failed') transition(t, 'failed');
          transition(t, 'rolled-back');
          events.step('rollback', 'done', { ...ev, message: `removed ${t.newContainer}`, durationMs: Date.now() - t0 });
          return;
        } catch (err) {
          const delay = UNDO_RETRY_DELAYS_MS[attempt];
          if (delay === undefined) {
            events.step('rollback', 'fail', { ...ev, message: messageOf(err) });
            return;
          }
          events.log(`undo of ${t.newContainer} failed (${messageOf(err)}); trying again in ${delay / 1000} s`, { level: 'warn', ...ev, step: 'rollback' });
          await sleep(delay);
        }
      }
    }),
  );
}

/**
 * A switched host gets its old server back before anything is removed. A candidate that never
 * took traffic is removed even while the proxy does not answer (its server, weight 0, routes
 * nothing); the proxy's part is then retried with the whole step.
 */
async function undoTarget(s: Session, t: DeployTarget, host: Host): Promise<void> {
  let proxyError: unknown;
  if (t.proxied) {
    const pt = proxyTarget(s, host);
    if (hasSwitched(t)) {
      const back = (await readServers(pt)).filter((srv) => srv.name !== t.newContainer && t.oldContainers.includes(srv.name));
      if (back[0]) {
        // Held: it served until the switch and was never stopped; it takes traffic back at once.
        // Otherwise (its proxy restarted since, and checks it again) a real check must pass.
        if (back[0].health !== 'held') await waitHealthy(pt, back[0].name, s.loaded.config.deploy_timeout);
        await switchTo(pt, back[0].name, [t.newContainer]);
        await waitDrained(pt, t.newContainer, s.loaded.config.drain_timeout);
      }
    }
    await removeServer(pt, t.newContainer).catch((err: unknown) => { proxyError = err; });
  }
  await removeContainer(host, t.newContainer);
  if (proxyError !== undefined) throw proxyError;
}

async function endState(s: Session, hosts: Map<string, Host>, proxied: Set<string>): Promise<DeployOutcome['endState']> {
  // Host by host: one host that died must not make the others' state unknown too.
  const observed = new Map<string, ObservedHost>();
  await Promise.all(
    [...hosts.values()].map(async (h) => {
      try {
        observed.set(h.name, await observeHost(h, s.loaded.config.service, proxied.has(h.name) ? proxyTarget(s, h) : undefined));
      } catch {
        // Left out: reported as unreachable below.
      }
    }),
  );
  const out: DeployOutcome['endState'] = [];
  for (const role of s.loaded.roles) {
    for (const host of role.hosts) {
      const o = observed.get(host);
      const version = o ? liveVersionOf(o, role) : undefined;
      out.push({ host, role: role.name, ...(version !== undefined ? { version } : {}), ...(o ? {} : { unreachable: true }) });
    }
  }
  return out;
}

const endLabel = (e: DeployOutcome['endState'][number]): string => (e.unreachable ? 'unknown (unreachable)' : e.version ?? '(nothing)');

function reportEnd(s: Session, end: DeployOutcome['endState']): void {
  for (const e of end) {
    s.events.result('live-version', { host: e.host, role: e.role, version: e.version ?? null, ...(e.unreachable ? { unreachable: true } : {}) }, { host: e.host, role: e.role });
    s.events.log(e.unreachable ? 'state unknown: the host did not answer' : `now serving ${endLabel(e)}`, { host: e.host, role: e.role, step: 'result', ...(e.unreachable ? { level: 'warn' as const } : {}) });
  }
}

function interruptedBeforeChanges(opts: DeployOptions): GangwayError {
  return new GangwayError('interrupted', `${opts.action} of ${opts.version} interrupted after the pull, before any host changed`, { step: 'pull' });
}

function summarise(failures: GangwayError[], end: DeployOutcome['endState'], opts: DeployOptions): GangwayError {
  // Interrupted first (before any failure): the interrupt is the cause; else the first failure.
  const interrupted = failures[0]?.code === 'interrupted' ? failures[0] : undefined;
  const first = interrupted ?? failures.find((f) => f.code !== 'interrupted')!;
  const versions = [...new Set(end.map(endLabel))];
  const where = versions.length === 1 ? `every host is on ${versions[0]}` : end.map((e) => `${e.host} ${e.role}: ${endLabel(e)}`).join(', ');
  const details = failures.flatMap((f) => [`[${[f.host, f.role, f.step].filter(Boolean).join(' ')}] ${f.message}`, ...f.details.map((d) => `  ${d}`)]);
  if (interrupted && first === interrupted) {
    return new GangwayError('interrupted', `${opts.action} of ${opts.version} interrupted; ${where}`, { step: 'deploy', details });
  }
  return new GangwayError('operation', `${opts.action} of ${opts.version} failed on ${first.host ?? 'a host'}: ${first.message}; ${where}`, {
    ...(first.host ? { host: first.host } : {}),
    ...(first.role ? { role: first.role } : {}),
    step: first.step ?? 'deploy',
    details,
  });
}
