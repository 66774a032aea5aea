// `gangway canary status|promote|abort`: a person takes over a canary, whether its deploy still
// runs or was killed. Everything is read from the hosts: the record says which server is the
// canary and which the old version, the proxy's weights say how the traffic is split.
import { findContainers, removeContainer, stopContainer } from '../app/container.js';
import { GangwayError, messageOf, operationError } from '../errors.js';
import { connectAll } from '../fleet/connect.js';
import { primaryHostOf, proxyTarget, type Session } from '../fleet/session.js';
import type { Host } from '../hosts/host.js';
import { readCounters, readServers } from '../proxy/live-servers.js';
import { removeServer, switchTo } from '../proxy/runtime-operations.js';
import type { ProxyTarget } from '../proxy/target.js';
import { waitDrained } from '../proxy/waits.js';
import { holderState, lockStatus, releaseLock } from '../state/lock.js';
import { figuresOf, type VersionFigures } from './canary-analysis.js';
import { canaryShare } from './canary-plan.js';
import { readCanaryRecord, removeCanaryRecord, returnToBaseline, writeCanaryDecision, type CanarySide } from './canary.js';
import { sleep } from '../sleep.js';
import { auditEverywhere, withDeployLock } from './locked.js';

const STOP_GRACE_MS = 10_000;

/** The proxied hosts of the config, connected, each with its canary record (if any). */
export async function sidesOf(s: Session, hosts: Map<string, Host>): Promise<CanarySide[]> {
  const proxied = new Set(s.loaded.roles.filter((r) => r.proxied).flatMap((r) => r.hosts));
  // One read per host, all at once: at 12 hosts, one after the other was a second on busy hosts.
  const read = await Promise.all([...hosts].filter(([name]) => proxied.has(name)).map(async ([, host]) => {
    const record = await readCanaryRecord(host, s.deployment);
    return record ? [{ host, pt: proxyTarget(s, host), record }] : [];
  }));
  return read.flat();
}

export interface SideStatus {
  host: string;
  version: string;
  canary: string;
  baseline: string[];
  /** The share of new requests the proxy gives the canary now (0..1). */
  share: number;
  /** The config's `canary.max_p99` (ms), when set: `slow` in the figures counts responses over it. */
  p99Ms?: number;
  /** Since the canary's server was added; the old version's since the proxy started. */
  canaryFigures: VersionFigures;
  baselineFigures: VersionFigures;
}

/** Read-only: every host's split and both versions' figures. Empty: no canary in progress. */
export async function canaryStatus(s: Session): Promise<SideStatus[]> {
  const hosts = await connectAll(s);
  const out: SideStatus[] = [];
  const p99Ms = s.loaded.config.canary?.max_p99;
  for (const side of await sidesOf(s, hosts)) {
    const [servers, counters] = await Promise.all([readServers(side.pt), readCounters(side.pt, { slow: p99Ms !== undefined })]);
    const weightOf = (name: string) => {
      const srv = servers.find((x) => x.name === name);
      return srv && srv.state === 'ready' ? srv.weight : 0;
    };
    const pairs = (names: string[]) => counters.filter((c) => names.includes(c.name)).map((now) => ({ now }));
    out.push({
      host: side.host.name,
      version: side.record.version,
      canary: side.record.canary,
      baseline: side.record.baseline,
      ...(p99Ms !== undefined ? { p99Ms } : {}),
      share: canaryShare({ canaryWeight: weightOf(side.record.canary), baselineWeights: side.record.baseline.map(weightOf) }),
      canaryFigures: figuresOf(pairs([side.record.canary])),
      baselineFigures: figuresOf(pairs(side.record.baseline)),
    });
  }
  return out;
}

/**
 * The deploy lock, as a deploy takes it; a lock whose holder was killed on this machine (its pid
 * is gone) is what a killed canary leaves, and is taken over rather than refused.
 */
async function withTakeoverLock<T>(s: Session, hosts: Map<string, Host>, what: string, work: () => Promise<T>): Promise<T> {
  const primary = hosts.get(primaryHostOf(s))!;
  const lock = await lockStatus(primary, s.deployment);
  if (lock.held && holderState(lock.details) === 'not-running') {
    s.events.log(`taking over the deploy lock of a killed gangway (pid ${lock.details?.pid}, ${lock.details?.message ?? ''})`, { level: 'warn', host: primary.name, step: 'lock' });
    await releaseLock(primary, s.deployment, lock.details?.id);
  }
  return withDeployLock(s, { host: primary, version: 'canary', message: what }, work);
}

/** Removes a version's containers from the non-proxied roles' hosts, where an older one still runs. */
async function settleOtherRoles(s: Session, hosts: Map<string, Host>, version: string, keep: 'old' | 'new'): Promise<void> {
  for (const role of s.loaded.roles.filter((r) => !r.proxied)) {
    for (const name of role.hosts) {
      const host = hosts.get(name);
      if (!host) continue;
      const containers = (await findContainers(host, s.deployment, role.name)).filter((c) => c.running);
      const fresh = containers.filter((c) => c.version === version);
      const older = containers.filter((c) => c.version !== version);
      if (fresh.length === 0 || older.length === 0) continue;
      if (keep === 'old') for (const c of fresh) await removeContainer(host, c.name);
      else for (const c of older) await stopContainer(host, c.name, STOP_GRACE_MS);
      s.events.log(keep === 'old' ? `removed ${fresh.map((c) => c.name).join(', ')}` : `stopped ${older.map((c) => c.name).join(', ')}`, { host: name, role: role.name, step: 'canary' });
    }
  }
}

/** One proxied host back on the old version, the canary's server and container removed. */
export async function abortSide(s: Session, side: CanarySide): Promise<void> {
  await returnToBaseline([side], s.deployment, s.loaded.config.drain_timeout, { keepRecord: true });
  await removeServer(side.pt, side.record.canary);
  await removeContainer(side.host, side.record.canary);
  await removeCanaryRecord(side.host, s.deployment);
  s.events.step('canary', 'done', { host: side.host.name, message: `${side.record.baseline.join(', ')} serves all the traffic; ${side.record.canary} removed` });
}

/** One proxied host on the new version: the canary switched to, the old servers drained, stopped. */
async function promoteSide(s: Session, side: CanarySide): Promise<void> {
  const pt: ProxyTarget = side.pt;
  await switchTo(pt, side.record.canary, side.record.baseline);
  for (const old of side.record.baseline) {
    await waitDrained(pt, old, s.loaded.config.drain_timeout);
    await removeServer(pt, old).catch((err: unknown) => s.events.log(`${old} stays in the proxy: ${messageOf(err)}`, { level: 'warn', host: side.host.name, step: 'canary' }));
    await stopContainer(side.host, old, STOP_GRACE_MS);
  }
  await removeCanaryRecord(side.host, s.deployment);
  s.events.step('canary', 'done', { host: side.host.name, message: `${side.record.canary} serves all the traffic; ${side.record.baseline.join(', ')} stopped` });
}

/** How long `canary promote|abort` waits for a running deploy to act on its word, beyond the drain. */
const DECISION_WAIT_MS = 60_000;

/**
 * A canary deploy that is still running holds the lock: it is told (a decision file beside the
 * record, read at its next poll) and does the work itself; this waits until its records are gone.
 */
async function tellRunningDeploy(s: Session, hosts: Map<string, Host>, action: 'abort' | 'promote'): Promise<{ version?: string; hosts: string[] }> {
  const sides = await sidesOf(s, hosts);
  if (sides.length === 0) return { hosts: [] };
  const version = sides[0]!.record.version;
  for (const side of sides) await writeCanaryDecision(side.host, s.deployment, action);
  s.events.log(`the canary deploy of ${version} is running: told it to ${action}; waiting for it`, { step: 'canary' });
  const deadline = Date.now() + s.loaded.config.drain_timeout + DECISION_WAIT_MS;
  while ((await sidesOf(s, hosts)).length > 0) {
    if (Date.now() > deadline) throw operationError(`the running canary deploy of ${version} did not act on \`canary ${action}\` within ${Math.round((s.loaded.config.drain_timeout + DECISION_WAIT_MS) / 1000)} s`, { step: 'canary', hint: 'is it still running? `gangway lock status` names it' });
    await sleep(500);
  }
  return { version, hosts: sides.map((x) => x.host.name) };
}

/** `canary abort` / `canary promote`: every host to one version, under the deploy lock. */
export async function finishCanary(s: Session, action: 'abort' | 'promote'): Promise<{ version?: string; hosts: string[] }> {
  const hosts = await connectAll(s);
  const lock = await lockStatus(hosts.get(primaryHostOf(s))!, s.deployment);
  if (lock.held && holderState(lock.details) !== 'not-running') return tellRunningDeploy(s, hosts, action);
  return withTakeoverLock(s, hosts, `canary ${action}`, async () => {
    const sides = await sidesOf(s, hosts);
    if (sides.length === 0) return { hosts: [] };
    const version = sides[0]!.record.version;
    let failure: unknown;
    try {
      await Promise.all(sides.map((side) => (action === 'abort' ? abortSide(s, side) : promoteSide(s, side))));
      await settleOtherRoles(s, hosts, version, action === 'abort' ? 'old' : 'new');
    } catch (err) {
      failure = err;
    }
    await auditEverywhere(s, [...hosts.values()], { action: `canary ${action}`, version, ok: !failure, message: failure ? `canary ${action} of ${version} failed: ${messageOf(failure)}` : `canary ${action} of ${version}` });
    if (failure) throw failure instanceof GangwayError ? failure : operationError(`canary ${action} failed: ${messageOf(failure)}`, { step: 'canary' });
    return { version, hosts: sides.map((x) => x.host.name) };
  });
}

/**
 * A rerun of deploy finds the record of a canary whose CLI was killed: that canary is returned to
 * the old version first (the safe side), then the deploy goes on as asked. `read`: the records
 * (sidesOf), which the deploy reads beside its pull, under its lock (only a lock holder writes them).
 */
export async function settleLeftoverCanary(s: Session, hosts: Map<string, Host>, read: Promise<CanarySide[]>): Promise<void> {
  const sides = await read;
  if (sides.length === 0) return;
  s.events.log(`a canary of ${sides[0]!.record.version} was left unfinished (its deploy was killed): returning its traffic to the old version first`, { level: 'warn', step: 'canary' });
  await Promise.all(sides.map((side) => abortSide(s, side)));
  await settleOtherRoles(s, hosts, sides[0]!.record.version, 'old');
}
