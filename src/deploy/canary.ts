// `deploy --canary`: after every new container passed health and uptests, the new version takes
// each step's share of the traffic beside the old one on every proxied host at once, and one
// judge reads the proxies' counters (summed over the hosts) until it promotes or aborts. Only the
// proxied roles take part; the others switch when the canary is promoted (see run.ts).
import type { CanaryConfig } from '../config/schema.js';
import { GangwayError, messageOf } from '../errors.js';
import type { Host } from '../hosts/host.js';
import type { ServerCounters } from '../proxy/counters.js';
import { readCounters, readServers } from '../proxy/live-servers.js';
import { returnTraffic, splitTraffic } from '../proxy/runtime-operations.js';
import type { ProxyTarget } from '../proxy/target.js';
import { waitDrained } from '../proxy/waits.js';
import {
  parseCanaryDecision, parseCanaryRecord, readCanaryDecisionCommand, readCanaryRecordCommand, removeCanaryRecordCommand, writeCanaryDecisionCommand, writeCanaryRecordCommand,
  type CanaryDecision, type CanaryRecord,
} from '../state/canary.js';
import type { Deployment } from '../state/deployment.js';
import { figuresOf, judge, type CounterPair, type Judgement, type VersionFigures } from './canary-analysis.js';
import { stepSplit } from './canary-plan.js';
import { hostOf, proxyOf, type DeployRun, type Fail } from './context.js';
import type { DeployPlan } from './plan.js';
import { sleep } from '../sleep.js';
import { switchTarget } from './switch.js';

/** One proxied host of a canary: its proxy, and which server is which. */
export interface CanarySide {
  host: Host;
  pt: ProxyTarget;
  record: CanaryRecord;
}

export type CanaryOutcome =
  | { verdict: 'promote'; steps: StepReport[] }
  | { verdict: 'abort'; reasons: string[]; steps: StepReport[] };

/** What one step saw, for the summary and the tests. */
export interface StepReport {
  percent: number;
  verdict: Judgement['verdict'];
  elapsedMs: number;
  canary: VersionFigures;
  baseline: VersionFigures;
}

// --- the record on each host -------------------------------------------------------------------

export async function readCanaryRecord(host: Host, d: Deployment): Promise<CanaryRecord | undefined> {
  const r = await host.exec(readCanaryRecordCommand(d).command);
  if (r.code !== 0) throw new Error(`cannot read the canary record: ${r.stderr.trim()}`);
  return parseCanaryRecord(r.stdout);
}

export async function writeCanaryRecord(host: Host, d: Deployment, record: CanaryRecord): Promise<void> {
  const c = writeCanaryRecordCommand(d, record);
  const r = await host.exec(c.command, { stdin: c.stdin });
  if (r.code !== 0) throw new Error(`cannot write the canary record: ${r.stderr.trim()}`);
}

export async function removeCanaryRecord(host: Host, d: Deployment): Promise<void> {
  const r = await host.exec(removeCanaryRecordCommand(d).command);
  if (r.code !== 0) throw new Error(`cannot remove the canary record: ${r.stderr.trim()}`);
}

export async function readCanaryDecision(host: Host, d: Deployment): Promise<CanaryDecision | undefined> {
  const r = await host.exec(readCanaryDecisionCommand(d).command);
  return r.code === 0 ? parseCanaryDecision(r.stdout) : undefined;
}

export async function writeCanaryDecision(host: Host, d: Deployment, decision: CanaryDecision): Promise<void> {
  const r = await host.exec(writeCanaryDecisionCommand(d, decision).command);
  if (r.code !== 0) throw new Error(`cannot write the canary decision: ${r.stderr.trim()}`);
}

// --- reading the traffic -----------------------------------------------------------------------

/**
 * Every side's counters, by host name. With a p99 bound, the bound is set first on every read: a
 * process variable, lost when the proxy reloads or restarts, so it is never more than a poll
 * away from being counted again.
 */
export async function readAllCounters(sides: CanarySide[], p99Ms?: number): Promise<Map<string, ServerCounters[]>> {
  return new Map(await Promise.all(sides.map(async (side) => [side.host.name, await readCounters(side.pt, p99Ms === undefined ? {} : { slowBoundMs: p99Ms })] as const)));
}

/** Pairs each version's servers' readings (start, now) over every host. */
export function versionFigures(sides: CanarySide[], start: Map<string, ServerCounters[]>, now: Map<string, ServerCounters[]>): { canary: VersionFigures; baseline: VersionFigures } {
  const pairs = (pick: (r: CanaryRecord) => string[]): CounterPair[] =>
    sides.flatMap((side) =>
      pick(side.record).flatMap((name) => {
        const n = now.get(side.host.name)?.find((c) => c.name === name);
        if (!n) return [];
        const s = start.get(side.host.name)?.find((c) => c.name === name);
        return [{ ...(s ? { start: s } : {}), now: n }];
      }),
    );
  return { canary: figuresOf(pairs((r) => [r.canary])), baseline: figuresOf(pairs((r) => r.baseline)) };
}

// --- the run of a deploy -----------------------------------------------------------------------

/**
 * The proxied targets of the plan that booted a new container beside an old one that serves. A
 * host without an old version serving (a first deploy there) has nothing to compare with: the
 * canary needs every proxied host to have one, or it is skipped (a plain switch), and says so.
 */
export async function canarySides(run: DeployRun, plan: DeployPlan): Promise<CanarySide[] | { skipped: string }> {
  const targets = plan.targets.filter((t) => t.proxied && !t.alreadyLive && t.state === 'uptested');
  if (targets.length === 0) return { skipped: `${plan.version} already serves on every proxied host` };
  const startedAt = new Date().toISOString();
  const sides: CanarySide[] = [];
  for (const t of targets) {
    const pt = proxyOf(run, t.host);
    const baseline = (await readServers(pt)).filter((srv) => srv.name !== t.newContainer && srv.state === 'ready').map((srv) => srv.name);
    if (baseline.length === 0) return { skipped: `no old version serves on ${t.host} to compare with; a plain switch` };
    sides.push({ host: hostOf(run, t.host), pt, record: { version: plan.version, canary: t.newContainer, baseline, percent: 0, startedAt } });
  }
  return sides;
}

const pollMsOf = (cfg: CanaryConfig): number => Math.max(200, Math.min(1000, Math.round(cfg.interval / 10)));

/**
 * Runs the steps on every side together. An abort (the judge's, or `signal`: Ctrl-C) returns all
 * traffic to the old servers and drains the canary before it returns; removing the new containers
 * is the deploy's undo. A promotion leaves the last step's split: the deploy's switch follows.
 */
export async function runCanary(run: DeployRun, sides: CanarySide[], cfg: CanaryConfig, signal: AbortSignal): Promise<CanaryOutcome> {
  const { events, deployment } = run.s;
  const steps: StepReport[] = [];
  const abort = async (reasons: string[]): Promise<CanaryOutcome> => {
    events.log(`canary aborted: ${reasons.join('; ')}`, { level: 'error', step: 'canary' });
    await returnToBaseline(sides, deployment, run.s.loaded.config.drain_timeout, { keepRecord: true });
    return { verdict: 'abort', reasons, steps };
  };
  try {
    // A decision left from an earlier canary is not this one's.
    for (const side of sides) {
      await removeCanaryRecord(side.host, deployment);
      await writeCanaryRecord(side.host, deployment, side.record);
    }
    for (const percent of cfg.steps) {
      if (signal.aborted) return await abort(['interrupted']);
      await Promise.all(sides.map(async (side) => {
        await splitTraffic(side.pt, stepSplit(percent, side.record.canary, side.record.baseline));
        side.record = { ...side.record, percent };
        await writeCanaryRecord(side.host, deployment, side.record);
      }));
      const what = `${percent}% of the traffic to ${sides[0]!.record.version} on ${sides.map((x) => x.host.name).join(', ')} for ${cfg.interval / 1000} s`;
      events.step('canary', 'start', { message: what });
      events.log(`canary step: ${what}`, { step: 'canary' });
      const report = await judgeStep(sides, cfg, percent, signal, deployment, (j) => events.log(`canary at ${percent}%: ${j.reasons.join('; ')}`, { step: 'canary' }));
      steps.push(report.step);
      events.result('canary-step', { ...report.step });
      if (report.verdict === 'interrupted') return await abort(['interrupted']);
      if (report.verdict === 'person') {
        if (report.step.verdict === 'abort') return await abort([`at ${percent}%: aborted by \`gangway canary abort\``]);
        events.log(`canary at ${percent}%: promoted by \`gangway canary promote\``, { step: 'canary' });
        return { verdict: 'promote', steps };
      }
      if (report.step.verdict === 'abort') return await abort([`at ${percent}% after ${(report.step.elapsedMs / 1000).toFixed(1)} s`, ...report.reasons]);
      events.step('canary', 'done', { message: `${percent}%: ${report.reasons.join('; ')}` });
    }
    return { verdict: 'promote', steps };
  } catch (err) {
    // A proxy that failed mid-step: the old version takes everything back, as for a bad canary.
    return await abort([`the canary could not go on: ${messageOf(err)}`]);
  }
}

interface StepResult {
  /** person: `gangway canary promote|abort` decided (step.verdict says which). */
  verdict: 'judged' | 'interrupted' | 'person';
  reasons: string[];
  step: StepReport;
}

/** Polls the counters until the judge promotes or aborts (or the signal ends it). */
async function judgeStep(sides: CanarySide[], cfg: CanaryConfig, percent: number, signal: AbortSignal, d: Deployment, onNews: (j: Judgement) => void): Promise<StepResult> {
  const start = await readAllCounters(sides, cfg.max_p99);
  const t0 = Date.now();
  let lastSaid = '';
  for (;;) {
    await sleep(pollMsOf(cfg), signal);
    const elapsedMs = Date.now() - t0;
    const [now, decision] = await Promise.all([readAllCounters(sides, cfg.max_p99), readCanaryDecision(sides[0]!.host, d)]);
    const figures = versionFigures(sides, start, now);
    const j = judge({ ...figures, elapsedMs, limits: cfg });
    const step = { percent, verdict: j.verdict, elapsedMs, canary: j.canary, baseline: j.baseline };
    if (signal.aborted) return { verdict: 'interrupted', reasons: ['interrupted'], step };
    if (decision) return { verdict: 'person', reasons: [decision], step: { ...step, verdict: decision } };
    if (j.verdict !== 'wait') return { verdict: 'judged', reasons: j.reasons, step };
    // "Too little traffic" is said once per step, not on every poll.
    const said = j.reasons.join('; ');
    if (said.startsWith('too little') && !lastSaid.startsWith('too little')) onNews(j);
    lastSaid = said;
  }
}

/**
 * Every side back on the old version: old servers at full weight, the canary drained (its requests
 * finish). Idempotent. `keepRecord`: the deploy's undo still has to remove the canary's containers,
 * and removes the record after (forgetCanary); the `canary abort` command removes them itself.
 */
export async function returnToBaseline(sides: CanarySide[], d: Deployment, drainTimeoutMs: number, opts: { keepRecord: boolean }): Promise<void> {
  await Promise.all(sides.map(async (side) => {
    await returnTraffic(side.pt, side.record.canary, side.record.baseline);
    await waitDrained(side.pt, side.record.canary, drainTimeoutMs);
    if (!opts.keepRecord) await removeCanaryRecord(side.host, d);
  }));
}

/** After the deploy's switch or undo: the record has nothing left to say. */
export async function forgetCanary(sides: CanarySide[], d: Deployment): Promise<void> {
  await Promise.all(sides.map((side) => removeCanaryRecord(side.host, d).catch(() => {})));
}

/**
 * The canary between boot and switch: promoted, every target switches as in a plain deploy (and
 * finalize drains and stops the old version); aborted, the traffic is back on the old version and
 * the abort is the deploy's failure, so undo removes the new containers.
 */
export async function canaryThenSwitch(run: DeployRun, plan: DeployPlan, cfg: CanaryConfig, signal: AbortSignal, fail: Fail): Promise<StepReport[]> {
  const { s } = run;
  const sides = await canarySides(run, plan);
  if (!Array.isArray(sides)) {
    s.events.log(`canary skipped: ${sides.skipped}`, { level: 'warn', step: 'canary' });
  } else {
    let outcome: CanaryOutcome;
    try {
      outcome = await runCanary(run, sides, cfg, signal);
    } catch (err) {
      // Even giving the traffic back failed (a proxy gone): the deploy fails, and its undo takes
      // the canary's servers out (maint, then deleted), which leaves the old ones all the traffic.
      fail(err);
      return [];
    }
    if (outcome.verdict === 'abort') {
      const { failed, requests } = failedShare(outcome.steps);
      const share = requests === 0 ? '' : `; ${failed} of ${requests} requests through the proxies (${((100 * failed) / requests).toFixed(2)}%) failed on ${plan.version} meanwhile`;
      if (!signal.aborted) fail(new GangwayError('operation', `canary of ${plan.version} aborted: ${outcome.reasons.join('; ')}${share}`, { step: 'canary', hint: 'the old version serves all the traffic again' }));
      await forgetCanary(sides, s.deployment);
      return outcome.steps;
    }
    s.events.log(`canary of ${plan.version} promoted after ${outcome.steps.length} step${outcome.steps.length === 1 ? '' : 's'}`, { step: 'canary' });
    await runSwitches(run, plan, fail);
    await forgetCanary(sides, s.deployment);
    return outcome.steps;
  }
  await runSwitches(run, plan, fail);
  return [];
}

const runSwitches = (run: DeployRun, plan: DeployPlan, fail: Fail): Promise<unknown> =>
  Promise.all(plan.targets.map((t) => switchTarget(run, t).catch((err: unknown) => fail(err, t))));

/** Share of every request through the proxies that failed on the canary during the canary. */
export function failedShare(steps: StepReport[]): { failed: number; requests: number } {
  return steps.reduce((acc, s) => ({ failed: acc.failed + s.canary.errors, requests: acc.requests + s.canary.requests + s.baseline.requests }), { failed: 0, requests: 0 });
}
