// Executes a deploy plan: lock, pull, boot each (host, role) beside the old version, gate it on
// health (from the proxy's side and the image's HEALTHCHECK) and uptests, switch, and only when
// every host passed, drain and stop the old containers. Any failure undoes what was started, so
// every host ends on the version it had. This file is the order of the stages; each stage is
// its own file (see docs/architecture.md, "Where each step of a deploy lives").
import { GangwayError, messageOf, operationError } from '../errors.js';
import { runAfterHook, runHook } from '../hooks/hooks.js';
import { bootAll } from './batches.js';
import { listWhilePulling, shareUptestListings } from './boot.js';
import { settleLeftoverCanary, sidesOf } from './canary-takeover.js';
import { canaryThenSwitch, type StepReport } from './canary.js';
import { assertProxyClaims } from './claims.js';
import { hostOf, newDeployRun, settleCleanups, type DeployRun } from './context.js';
import { finalize, prune } from './finalize.js';
import { holdServing } from './hold.js';
import { auditEverywhere, withDeployLock } from './locked.js';
import { observeAll } from './observe.js';
import { endState, endStateOf, interruptedBeforeChanges, observeEnd, reportEnd, summarise, type EndState } from './outcome.js';
import { transition, type DeployTarget } from './phases.js';
import { planDeploy, type DeployPlan } from './plan.js';
import { pullEverywhere } from './pull.js';
import { undo } from './undo.js';
import type { CanaryConfig } from '../config/schema.js';
import { connectAll } from '../fleet/connect.js';
import { acmeSettings, assertDockerReady, prepareHosts, proxiesUpToDate } from '../fleet/prepare.js';
import { hookContextFor, imageRef, primaryHostOf, type Session } from '../fleet/session.js';

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
  /**
   * Called once every host serves the new version and the old ones are stopped: the deploy can
   * no longer fail, and what it starts (the audit line) runs beside the last reading of the hosts.
   */
  onFinished?: () => void;
  /** `deploy --canary`: the steps and limits (docs/canary.md); absent: a plain switch. */
  canary?: CanaryConfig;
}

export interface DeployOutcome {
  version: string;
  plan: DeployPlan;
  /** Version each (host, role) serves at the end, read back from the hosts. */
  endState: EndState;
  durationMs: number;
  /** From the command's start until every (host, role) served the new version. */
  timeToLiveMs: number;
  /** From the command's start until its end: old versions stopped, audit written, post-deploy run. */
  totalMs: number;
  /** What each canary step saw, when the deploy ran as a canary. */
  canarySteps?: StepReport[];
}

/**
 * A deploy, rollback or setup; its `timing` result event says when it was live and when it ended.
 * A failed one was never live (every host is back on its old version): timeToLiveMs is null.
 */
export async function runDeploy(s: Session, opts: DeployOptions): Promise<DeployOutcome> {
  const origin = opts.startedAt ?? Date.now();
  try {
    return await deployAndTime(s, { ...opts, startedAt: origin });
  } catch (err) {
    const totalMs = Math.round(Date.now() - origin);
    s.events.result('timing', { timeToLiveMs: null, totalMs });
    s.events.log(`not live: the ${opts.action} did not complete; ${seconds(totalMs)} in all`, { level: 'error' });
    throw err;
  }
}

async function deployAndTime(s: Session, opts: DeployOptions): Promise<DeployOutcome> {
  const started = Date.now();
  const { events, deployment } = s;
  const ref = imageRef(s, opts.version);
  // An unreadable proxy.acme.ca_file is bad input: exit 2 before any host is reached.
  await acmeSettings(s);
  const hosts = await connectAll(s);
  // Only setup installs Docker; anything else stops here, before the lock, saying so.
  await assertDockerReady([...hosts.values()]);
  const primaryHost = primaryHostOf(s);
  const run = newDeployRun(s, hosts, ref);

  // Both deploy hooks run under the lock: a deploy that loses the race for it runs neither, and
  // post-deploy sees the hosts as this deploy left them, not as a competing one changes them.
  // Rollback and setup run them too (GANGWAY_COMMAND tells them apart), as Kamal's rollback does.
  const hookCtx = hookContextFor(s.loaded, opts.action, opts.version, [...hosts.keys()]);
  const hookOpts = { projectDir: s.loaded.baseDir, events };
  let outcome: LockedOutcome | undefined;
  let failure: unknown;
  let postDeployFailure: string | undefined;
  const lock = { host: hosts.get(primaryHost)!, version: opts.version, message: opts.message ?? `${opts.action} ${opts.version}`, waitMs: opts.lockWaitMs, ...(opts.signal ? { signal: opts.signal } : {}) };
  // One line per command on every host; a deploy that finished writes it while it reads the hosts
  // back (onFinished), a failed one after its undo.
  const audit = (failed?: unknown) =>
    auditEverywhere(s, [...hosts.values()], { action: opts.action, version: opts.version, ok: !failed, message: failed ? `${opts.action} ${opts.version} failed: ${messageOf(failed)}` : `${opts.action} ${opts.version}` });
  let audited: Promise<void> | undefined;
  await withDeployLock(s, lock, async () => {
    try {
      await runHook('pre-deploy', hookCtx, hookOpts);
      outcome = await deployLocked(run, { ...opts, onFinished: () => { audited = audit(); audited.catch(() => {}); } }, started);
    } catch (err) {
      failure = err;
    }
    if (failure) {
      await audited?.catch(() => {});
      await audit(failure);
    } else {
      await (audited ?? audit());
    }
    // The new version is live everywhere: a failing post-deploy is a warning, never a failure.
    if (!failure) postDeployFailure = await runAfterHook('post-deploy', { ...hookCtx, extra: { GANGWAY_RUNTIME: String(Math.round((Date.now() - started) / 1000)) } }, hookOpts);
  });

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

async function deployLocked(run: DeployRun, opts: DeployOptions, started: number): Promise<LockedOutcome> {
  // Routes another service holds on a shared proxy are refused before anything changes anywhere.
  const read = await assertProxyClaims(run);
  // What serves keeps serving whatever the deploy's own work does to the hosts' speed: the
  // servers that carry traffic are held (no active check) before anything else, the pull included.
  // A proxy restarted since the last deploy checks the servers it loaded from its file again.
  await holdServing(run, { quiet: true, read });
  try {
    return await deployHeld(run, opts, started);
  } catch (err) {
    // What was started on the way (an uptest listing's probe begun during the pull) is finished
    // before the command ends, whichever step failed.
    await settleCleanups(run);
    throw err;
  }
}

async function deployHeld(run: DeployRun, opts: DeployOptions, started: number): Promise<LockedOutcome> {
  const { s, hosts, proxied } = run;
  // Nothing changes on any host until every host has the image and a working proxy. What the
  // proxies' preparation only reads is read while the images are pulled.
  const upToDate = proxiesUpToDate(s, hosts, proxied).catch(() => new Set<string>());
  // The records of a canary whose CLI was killed, read beside the pull too (acted on below).
  const leftoverCanary = sidesOf(s, hosts);
  leftoverCanary.catch(() => {}); // a failed read fails the deploy where it is awaited
  try {
    await pullEverywhere(run, { ...opts, onPulled: listWhilePulling(run) });
  } finally {
    // Never left running past a failed pull: the connections close when the command ends.
    await Promise.all([upToDate, leftoverCanary.catch(() => {})]);
  }
  if (opts.signal?.aborted) throw interruptedBeforeChanges(opts);
  const untouched = await upToDate;
  await prepareHosts(s, hosts, proxied, untouched);
  // A proxy that prepare started or recreated loaded its servers from the file, checked; one it
  // found as wanted still has the checks held above.
  await holdServing(run, { quiet: false, skip: untouched });
  // A canary whose CLI was killed goes back to its old version before this deploy plans anything.
  await settleLeftoverCanary(s, hosts, leftoverCanary);
  const observed = await observeAll(hosts, s.deployment, run.proxies);
  const plan = planDeploy({ deployment: s.deployment, version: opts.version, roles: s.loaded.roles, observed });
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
  let canarySteps: StepReport[] | undefined;
  try {
    shareUptestListings(run, plan);
    await bootAll(run, plan, abort.signal, fail, { holdSwitch: opts.canary !== undefined });
    if (opts.canary && failures.length === 0 && !abort.signal.aborted) canarySteps = await canaryThenSwitch(run, plan, opts.canary, abort.signal, fail);
    liveAt = Date.now();
    if (failuresAtInterrupt === 0) {
      failures.unshift(new GangwayError('interrupted', 'interrupted', { step: 'deploy' }));
    }
    if (failures.length > 0) {
      await undo(run, plan);
      const end = await endState(run);
      reportEnd(s, end);
      throw summarise(failures, end, opts);
    }
    await finalize(run, plan);
    opts.onFinished?.();
  } finally {
    opts.signal?.removeEventListener('abort', onSignal);
    // Started during the boots, finished beside the undo or the drain and stop.
    await settleCleanups(run);
  }
  // One reading of each host for both: what it serves now, and which old versions go.
  const atEnd = await observeEnd(run);
  await Promise.all([...atEnd].map(([name, o]) => prune(run, hostOf(run, name), opts.version, o.containers)));
  const end = endStateOf(run, atEnd);
  reportEnd(s, end);
  // Time to live: from the command's start until every (host, role) served the new version.
  return { version: opts.version, plan, endState: end, durationMs: Date.now() - started, timeToLiveMs: Math.round(liveAt - (opts.startedAt ?? started)), ...(canarySteps ? { canarySteps } : {}) };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
