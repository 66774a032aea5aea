// The dependency graph of a set of definitions: the closure of what the roots need, checked
// for duplicate names and cycles, in an order where every dependency comes first.
import { configError } from '../errors.js';
import { type Definition, dependenciesOf } from './definitions.js';

export interface GraphNode {
  def: Definition;
  /** Keys (kind:name) of the nodes this one needs. */
  dependsOn: string[];
  /** Keys of the nodes that need this one: they go away before it at teardown. */
  dependents: string[];
}

export const nodeKey = (def: Definition): string => `${def.kind}:${def.name}`;

/** Nodes of the closure of `roots`, dependencies before dependents. */
export function planGraph(roots: readonly Definition[]): GraphNode[] {
  const byKey = new Map<string, Definition>();
  const ordered: GraphNode[] = [];
  const state = new Map<string, 'visiting' | 'done'>();

  const visit = (def: Definition, path: string[]): void => {
    const key = nodeKey(def);
    const seen = byKey.get(key);
    if (seen && seen !== def && !sameDefinition(seen, def)) {
      throw configError(`two different ${def.kind} definitions are named "${def.name}"`, {
        step: 'testing.plan',
        hint: 'give each definition its own name (def.with({ name }) makes a renamed copy)',
      });
    }
    byKey.set(key, seen ?? def);
    const status = state.get(key);
    if (status === 'done') return;
    if (status === 'visiting') {
      throw configError(`dependency cycle: ${[...path, key].join(' -> ')}`, { step: 'testing.plan' });
    }
    state.set(key, 'visiting');
    const deps = dependenciesOf(def);
    for (const dep of deps) visit(dep, [...path, key]);
    state.set(key, 'done');
    ordered.push({ def, dependsOn: unique(deps.map(nodeKey)), dependents: [] });
  };

  for (const root of roots) visit(root, []);
  const index = new Map(ordered.map((n) => [nodeKey(n.def), n]));
  for (const node of ordered) for (const dep of node.dependsOn) index.get(dep)!.dependents.push(nodeKey(node.def));
  return ordered;
}

// `with()` copies are distinct objects; the same name with identical options is the same thing.
function sameDefinition(a: Definition, b: Definition): boolean {
  return a.kind === b.kind && a.name === b.name && a.options === b.options;
}

const unique = (xs: string[]): string[] => [...new Set(xs)];

/**
 * Runs `step` on every node once all of `waitFor(node)` finished: the widest parallelism the
 * graph allows. Independent nodes never wait for each other's failures; the first error is rethrown.
 */
export async function runGraph(
  nodes: readonly GraphNode[],
  waitFor: (node: GraphNode) => string[],
  step: (node: GraphNode) => Promise<void>,
  /** Teardown runs a node even when what it waited for failed; setup does not. */
  afterFailedPredecessors: 'skip' | 'run' = 'skip',
): Promise<void> {
  const done = new Map<string, Promise<void>>();
  const byKey = new Map(nodes.map((n) => [nodeKey(n.def), n]));
  const run = (node: GraphNode): Promise<void> => {
    const key = nodeKey(node.def);
    let p = done.get(key);
    if (!p) {
      const before = waitFor(node).map((k) => byKey.get(k)).filter((n): n is GraphNode => n !== undefined);
      p = afterFailedPredecessors === 'skip'
        ? Promise.all(before.map(run)).then(() => step(node))
        : Promise.allSettled(before.map(run)).then(() => step(node));
      done.set(key, p);
    }
    return p;
  };
  const results = await Promise.allSettled(nodes.map(run));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
