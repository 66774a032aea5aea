// The proxy-restart bench's table and closing sentences, each sentence derived from the rows.
import { failedOf, type LoadCounts } from '../zero-downtime/load.js';

export type Kind = 'baseline' | 'restart' | 'crash' | 'drain' | 'reload' | 'sigusr2';

export interface Row {
  phase: string;
  kind: Kind;
  /** vm1: the host whose proxy restarts. */
  faulted: LoadCounts;
  /** vm2: same load, its proxy untouched. */
  control: LoadCounts;
  /** Requests due on vm1 but held back by the load's in-flight cap (never sent). */
  unsent: number;
  /** The deploy's exit code (drain phases). */
  deployExit?: number;
  /** vm1 serves the expected version afterwards. */
  routesKept: boolean;
  /** From the restart command to the runtime socket answering again. */
  proxyBackMs?: number;
  after: string;
}

const pct = (n: number, d: number) => (d === 0 ? '-' : `${((100 * n) / d).toFixed(2)}%`);
const kinds = (c: LoadCounts) => [...c.failureKinds].map(([k, n]) => `${k} ×${n}`).join(', ') || '-';

export function table(rows: Row[]): string[] {
  const lines = [
    '| phase | vm1 requests | vm1 failed | failure kinds (vm1) | vm1 unsent (in-flight cap) | vm2 (control) failed / requests | proxy back after | after |',
    '|---|---:|---:|---|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.phase} | ${r.faulted.requests} | ${failedOf(r.faulted)} (${pct(failedOf(r.faulted), r.faulted.requests)}) | ${kinds(r.faulted)} | ${r.unsent} | ${failedOf(r.control)} / ${r.control.requests} | ${r.proxyBackMs !== undefined ? `${r.proxyBackMs} ms` : '-'} | ${r.after} |`);
  }
  return lines;
}

/** The closing sentences, each from the rows above it. */
export function summary(rows: Row[]): string[] {
  const range = (xs: number[]) => (Math.min(...xs) === Math.max(...xs) ? `${Math.min(...xs)}` : `${Math.min(...xs)} to ${Math.max(...xs)}`);
  const sum = (list: Row[], f: (r: Row) => number) => list.reduce((n, r) => n + f(r), 0);
  const restarts = rows.filter((r) => r.kind === 'restart' || r.kind === 'crash' || r.kind === 'drain');
  const reloads = rows.filter((r) => r.kind === 'reload');
  const baseline = rows.filter((r) => r.kind === 'baseline');
  const kept = restarts.filter((r) => r.routesKept).length;
  const lines: string[] = [];
  lines.push(kept === restarts.length
    ? `vm1 served the expected version after all ${restarts.length} restarts: its routes survived them.`
    : `vm1 served the expected version after ${kept} of ${restarts.length} restarts only (see the after column).`);
  const failed = sum(restarts, (r) => failedOf(r.faulted));
  const sent = sum(restarts, (r) => r.faulted.requests);
  const byReason = new Map<string, number>();
  for (const r of restarts) for (const [k, n] of r.faulted.failureKinds) { const reason = k.replace(/ \(.*\)$/, ''); byReason.set(reason, (byReason.get(reason) ?? 0) + n); }
  const reasons = [...byReason].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  lines.push(failed === 0
    ? `No request failed on vm1 over the ${restarts.length} restarts (${sent} sent).`
    : `The restarts are not free: ${failed} of ${sent} requests on vm1 failed over ${restarts.length} restarts (${byReason.size === 1 ? `all ${reasons.replace(/ \d+$/, '')}` : reasons}), per restart ${range(restarts.map((r) => failedOf(r.faulted)))}.`);
  const unsent = sum(rows, (r) => r.unsent);
  if (unsent > 0) lines.push(`${unsent} requests due on vm1 were never sent (the load's in-flight cap), in ${rows.filter((r) => r.unsent > 0).map((r) => r.phase).join('; ')}.`);
  for (const kind of ['restart', 'crash', 'drain'] as const) {
    const list = restarts.filter((r) => r.kind === kind && r.proxyBackMs !== undefined);
    if (list.length) lines.push(`${kind === 'restart' ? 'After a docker restart at rest' : kind === 'crash' ? 'After a crash at rest' : 'After a restart during the drain'} the proxy answered again in ${range(list.map((r) => r.proxyBackMs!))} ms.`);
  }
  const drains = restarts.filter((r) => r.kind === 'drain');
  if (drains.length) lines.push(`The deploys whose drain met the restart exited 0 in ${drains.filter((r) => r.deployExit === 0).length} of ${drains.length}.`);
  const reloadLine = (what: string, list: Row[]) => `${what}: ${sum(list, (r) => failedOf(r.faulted))} of ${sum(list, (r) => r.faulted.requests)} requests on vm1 failed over ${list.length} reload${list.length === 1 ? '' : 's'}${list.every((r) => r.routesKept) ? ', routes kept' : ', routes NOT kept on every one'}.`;
  if (reloads.length) lines.push(reloadLine('A seamless reload as gangway applies settings changes (connections closed after their response first, then SIGUSR2)', reloads));
  const plain = rows.filter((r) => r.kind === 'sigusr2');
  if (plain.length) lines.push(reloadLine('A plain SIGUSR2 reload, for comparison', plain));
  const controlFailed = sum(rows, (r) => failedOf(r.control));
  lines.push(`The control host (vm2) lost ${controlFailed} of ${sum(rows, (r) => r.control.requests)} requests over all phases; the no-fault baseline lost ${sum(baseline, (r) => failedOf(r.faulted))} on vm1.`);
  const crashFailed = sum(restarts.filter((r) => r.kind === 'crash'), (r) => failedOf(r.faulted));
  if (crashFailed > 0) lines.push(`A crash cost ${crashFailed} requests here: clients that must not see such failures should retry idempotent requests.`);
  return lines;
}
