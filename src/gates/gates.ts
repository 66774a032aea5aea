// The one entry point for gates: build them, pick the health gate a container needs, run a list
// in order, and turn a failed result into a GangwayError.
import { GangwayError } from '../errors.js';
import type { Gate, GateOptions, GateResult, GateTarget } from './gate.js';
import type { ContainerStateLike } from './container-watch.js';
import { dockerHealthGate, hasDockerHealthcheck, type DockerHealthOptions, type OwnCheck } from './docker-health.js';
import { runningGate, type RunningOptions } from './running.js';
import { uptestsGate, type UptestsGateOptions } from './uptests.js';

export type { Gate, GateOptions, GateResult, GateTarget } from './gate.js';
export { dockerHealthGate } from './docker-health.js';
export { runningGate } from './running.js';
export { uptestsGate, runUptests, listUptests, listUptestsOnce, prepareUptests, discardUptests, type PreparedUptests, type SharedUptestListing } from './uptests.js';

export const gates = {
  dockerHealth: (o: DockerHealthOptions): Gate => dockerHealthGate(o),
  running: (o: RunningOptions): Gate => runningGate(o),
  uptests: (o: UptestsGateOptions): Gate => uptestsGate(o),
};

/**
 * The container-level gate for a started container: its image's HEALTHCHECK when it has one,
 * otherwise "stays running for settleMs". (HTTP health from the proxy's side is the proxy's gate.)
 */
export function containerGateFor(info: ContainerStateLike, o: { timeoutMs: number; settleMs: number; pollIntervalMs?: number; ownCheck?: OwnCheck }): Gate {
  return hasDockerHealthcheck(info)
    ? dockerHealthGate({ timeoutMs: o.timeoutMs, pollIntervalMs: o.pollIntervalMs, ...(o.ownCheck ? { ownCheck: o.ownCheck } : {}) })
    : runningGate({ settleMs: o.settleMs, pollIntervalMs: o.pollIntervalMs });
}

/** Runs gates in order and stops at the first that fails (later gates would test a broken app). */
export async function runGates(list: Gate[], target: GateTarget, opts: GateOptions = {}): Promise<GateResult[]> {
  const results: GateResult[] = [];
  for (const gate of list) {
    const ev = { host: target.host.name, role: target.role };
    opts.events?.step(gate.name, 'start', { ...ev, message: target.container });
    const result = await gate.check(target, opts);
    opts.events?.step(gate.name, result.passed ? 'done' : 'fail', { ...ev, message: result.message, durationMs: result.durationMs });
    results.push(result);
    if (!result.passed) break;
  }
  return results;
}

export function gateError(result: GateResult, target: GateTarget): GangwayError {
  return new GangwayError('operation', `${target.container} failed the ${result.gate} gate: ${result.message}`, {
    host: target.host.name,
    role: target.role,
    step: result.gate,
    details: result.details,
  });
}

/** runGates, throwing the first failure as a GangwayError carrying its evidence. */
export async function assertGates(list: Gate[], target: GateTarget, opts: GateOptions = {}): Promise<GateResult[]> {
  const results = await runGates(list, target, opts);
  const failed = results.find((r) => !r.passed);
  if (failed) throw gateError(failed, target);
  return results;
}
