// The `uses:` actions a recipe may use, and what the test does instead of each: a recipe using
// any other fails before anything runs, so a new action cannot slip in unrun. Pure.
import semver from 'semver';
import { RecipeError, type Pipeline } from './pipeline.js';

export type StandIn =
  /** The job's workspace becomes a clone of the test's repository at the pushed commit. */
  | { kind: 'checkout' }
  /** Node is this machine's; the requested line must satisfy gangway's engines too. */
  | { kind: 'node'; requested: string };

interface Known {
  withKeys: string[];
  standIn: (withValues: Record<string, string>, where: string) => StandIn;
}

const KNOWN: Record<string, Known> = {
  'actions/checkout': { withKeys: [], standIn: () => ({ kind: 'checkout' }) },
  'actions/setup-node': {
    withKeys: ['node-version'],
    standIn: (w, where) => {
      const requested = w['node-version'];
      if (!requested) throw new RecipeError(where, 'actions/setup-node without node-version: the test cannot tell which Node the recipe wants');
      return { kind: 'node', requested };
    },
  },
};

/** What stands in for `uses: action@ref` with these inputs; a RecipeError for anything else. */
export function standInFor(uses: string, withValues: Record<string, string>, where: string): StandIn {
  const name = uses.replace(/@[^@]*$/, '');
  const known = KNOWN[name];
  if (!known) throw new RecipeError(where, `uses ${uses}: the test has no stand-in for it (it knows ${Object.keys(KNOWN).join(', ')}); add one to test/integration/ci/stand-ins.ts`);
  const extra = Object.keys(withValues).filter((k) => !known.withKeys.includes(k));
  if (extra.length > 0) throw new RecipeError(where, `uses ${uses} with ${extra.join(', ')}: not simulated`);
  return known.standIn(withValues, where);
}

/** Every `uses:` of the pipeline, run or skipped on this push, has a stand-in. */
export function checkStandIns(pipeline: Pipeline): void {
  for (const job of pipeline.jobs) {
    job.steps.forEach((step, i) => {
      if (step.action.kind === 'uses') standInFor(step.action.action, step.action.with, `${job.name} step ${i + 1} (${step.name})`);
    });
  }
}

/**
 * Whether the Node line a recipe asks for runs gangway (package.json engines); the machine's own
 * Node stands in for it and must run gangway too.
 */
export function nodeLineProblem(requested: string, engines: string, machine: string): string | undefined {
  const lowest = semver.minVersion(semver.validRange(requested) ?? requested);
  if (!lowest) return `node-version ${requested} is not a version range`;
  if (!semver.satisfies(lowest, engines)) return `node-version ${requested} (from ${lowest.version}) is outside gangway's engines ${engines}`;
  if (!semver.satisfies(machine, engines)) return `this machine's Node ${machine} is outside gangway's engines ${engines}`;
  return undefined;
}
