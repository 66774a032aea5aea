// Engine operations of a release as data: the plan turns into tag and push operations that
// --dry-run prints and the executor runs, in the same order.
import type { PushDecision } from './plan.js';

export type ReleaseOperation =
  | { kind: 'tag'; source: string; target: string }
  | { kind: 'push'; ref: string; registry: string };

/** All tags first, then all pushes (docker-ci-deploy's order): a failed tag pushes nothing. */
export function releaseOperations(decisions: readonly PushDecision[]): ReleaseOperation[] {
  const pushes = decisions.filter((d) => d.action === 'push').map((d) => d.target);
  const tags: ReleaseOperation[] = pushes
    .filter((t) => t.ref !== t.source)
    .map((t) => ({ kind: 'tag', source: t.source, target: t.ref }));
  return [...tags, ...pushes.map((t): ReleaseOperation => ({ kind: 'push', ref: t.ref, registry: t.registry }))];
}

/** The docker CLI line doing the same, for --dry-run and logs. */
export function describeOperation(op: ReleaseOperation): string {
  return op.kind === 'tag' ? `docker tag ${op.source} ${op.target}` : `docker push ${op.ref}`;
}

export interface PushedRef {
  ref: string;
  /** Manifest digest the registry answered with. */
  digest?: string;
}

export interface ReleaseOutcome {
  pushed: PushedRef[];
  /** The operation that failed, if any; the run stops there. */
  failed?: { op: ReleaseOperation; message: string };
  /** Pushes that were planned but not attempted because an earlier operation failed. */
  notAttempted: string[];
}

/** What made it and what did not, one line each, for the final report of a failed release. */
export function describeOutcome(outcome: ReleaseOutcome): string[] {
  const lines: string[] = [];
  lines.push(outcome.pushed.length ? `pushed (${outcome.pushed.length}): ${outcome.pushed.map((p) => p.ref).join(', ')}` : 'pushed: none');
  if (outcome.failed) {
    const f = outcome.failed.op;
    lines.push(`failed: ${f.kind === 'push' ? f.ref : `tag ${f.target}`}: ${outcome.failed.message}`);
  }
  if (outcome.notAttempted.length) lines.push(`not pushed (${outcome.notAttempted.length}): ${outcome.notAttempted.join(', ')}`);
  return lines;
}

/** Bookkeeping for an outcome: every push not done and not the failing one is "not attempted". */
export function outcomeAfterFailure(ops: readonly ReleaseOperation[], pushed: PushedRef[], failed: { op: ReleaseOperation; message: string }): ReleaseOutcome {
  const done = new Set(pushed.map((p) => p.ref));
  const failedRef = failed.op.kind === 'push' ? failed.op.ref : undefined;
  const notAttempted = ops.flatMap((op) => (op.kind === 'push' && !done.has(op.ref) && op.ref !== failedRef ? [op.ref] : []));
  return { pushed, failed, notAttempted };
}
