// Pure rendering of the HTTPS bench's own tables (https.ts): per request shape, what TLS adds to
// the same kind of connection, and the closed-loop capacity of fresh connections per host.
import type { GangwayEvent } from '../../src/events/events.js';
import { percentile, type KindCounts, type LoadCounts, type LoadResult } from './load.js';
import { mergeCounts } from './report.js';

const ms = (v: number) => v.toFixed(1);

/** Per request shape of each phase: requests, failed, p50/p99/max. */
export function kindTable(phases: Array<{ phase: string; load: LoadResult }>): string {
  const lines = ['| phase | kind | requests | failed | p50 ms | p99 ms | max ms | fresh TLS connections that resumed a session |', '|---|---|---|---|---|---|---|---|'];
  for (const p of phases) {
    for (const [kind, c] of [...mergeCounts(p.load).byKind].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`| ${p.phase} | ${kind} | ${c.requests} | ${c.failed ? `**${c.failed}**` : 0} | ${ms(percentile(c.latenciesMs, 50))} | ${ms(percentile(c.latenciesMs, 99))} | ${ms(Math.max(0, ...c.latenciesMs))} | ${kind.endsWith('https fresh') ? c.resumed : '-'} |`);
    }
  }
  return lines.join('\n');
}

export interface TlsCost {
  connection: 'keep-alive' | 'fresh';
  httpP50: number;
  httpsP50: number;
  httpP99: number;
  httpsP99: number;
}

/**
 * Pure: what TLS adds, per kind of connection, from one load that sent both (same run, same
 * rate): the HTTPS shape's p50 and p99 minus the plain one's. Shapes missing on either side are
 * left out.
 */
export function tlsCost(byKind: Map<string, KindCounts>, method = 'GET'): TlsCost[] {
  return (['keep-alive', 'fresh'] as const).flatMap((connection) => {
    const plain = byKind.get(`${method} ${connection}`);
    const tls = byKind.get(`${method} https ${connection}`);
    if (!plain?.latenciesMs.length || !tls?.latenciesMs.length) return [];
    return [{
      connection,
      httpP50: percentile(plain.latenciesMs, 50),
      httpsP50: percentile(tls.latenciesMs, 50),
      httpP99: percentile(plain.latenciesMs, 99),
      httpsP99: percentile(tls.latenciesMs, 99),
    }];
  });
}

const signed = (v: number) => `${v >= 0 ? '+' : ''}${ms(v)}`;

export function tlsCostTable(costs: TlsCost[]): string {
  return [
    '| connection | HTTP p50 ms | HTTPS p50 ms | TLS adds at p50 ms | HTTP p99 ms | HTTPS p99 ms | TLS adds at p99 ms |',
    '|---|---|---|---|---|---|---|',
    ...costs.map((c) => `| ${c.connection} | ${ms(c.httpP50)} | ${ms(c.httpsP50)} | **${signed(c.httpsP50 - c.httpP50)}** | ${ms(c.httpP99)} | ${ms(c.httpsP99)} | ${signed(c.httpsP99 - c.httpP99)} |`),
  ].join('\n');
}

export interface CapacityRow {
  host: string;
  /** kindLabel of the shape looped. */
  kind: string;
  concurrency: number;
  counts: LoadCounts;
  /** CPU ms the bench process itself used during the loop (the client's side of every connection). */
  clientCpuMs: number;
  /** CPU ms that host's HAProxy used during the loop. */
  proxyCpuMs: number;
  loadAvg: string;
}

/** Pure: requests answered with the right body per second of the loop. */
export const perSecond = (c: LoadCounts): number => (c.durationMs > 0 ? (c.ok * 1000) / c.durationMs : 0);

/** Pure: CPU ms as cores busy over the loop, and per request sent. */
export function cpuShare(cpuMs: number, c: Pick<LoadCounts, 'durationMs' | 'requests'>): { cores: number; msPerRequest: number } {
  return { cores: c.durationMs > 0 ? cpuMs / c.durationMs : 0, msPerRequest: c.requests > 0 ? cpuMs / c.requests : 0 };
}

export function capacityTable(rows: CapacityRow[]): string {
  const cpu = (cpuMs: number, c: LoadCounts) => {
    const s = cpuShare(cpuMs, c);
    return `${s.cores.toFixed(2)} | ${s.msPerRequest.toFixed(2)}`;
  };
  return [
    '| host | fresh connection + GET / | in flight | s | requests | failed | **per second** | p50 ms | p99 ms | max ms | bench process CPU, cores | bench CPU ms per request | HAProxy CPU, cores | **HAProxy CPU ms per request** | load avg at end |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const c = r.counts;
      const failed = c.non2xx + c.socketErrors + c.badBody;
      return `| ${r.host} | ${r.kind} | ${r.concurrency} | ${(c.durationMs / 1000).toFixed(1)} | ${c.requests} | ${failed} | **${perSecond(c).toFixed(0)}** | ${ms(percentile(c.latenciesMs, 50))} | ${ms(percentile(c.latenciesMs, 99))} | ${ms(Math.max(0, ...c.latenciesMs))} | ${cpu(r.clientCpuMs, c)} | ${cpu(r.proxyCpuMs, c).replace(/\| (\S+)$/, '| **$1**')} | ${r.loadAvg} |`;
    }),
  ].join('\n');
}

/** Pure: "on vm1 at 9.48 s, on vm2 at 9.95 s" from gangway's "certificate <name> renewed|added" logs, after `since` (epoch ms). */
export function installTimes(events: GangwayEvent[], since: number): string {
  return events
    .filter((e) => e.type === 'log' && /^certificate \S+ (renewed|added)/.test(e.message))
    .map((e) => `on ${e.host ?? '-'} at ${((e.ts - since) / 1000).toFixed(2)} s`)
    .join(', ');
}

/**
 * Pure: p99 latency of the requests sent in each second, "<second>: <p99>" with 0 = the second the
 * operation started (`leadMs` into the load), so a slow stretch can be set against gangway's steps.
 */
export function p99BySecond(c: Pick<LoadCounts, 'latenciesMs' | 'sentAtMs'>, leadMs: number): string {
  const buckets = new Map<number, number[]>();
  c.sentAtMs.forEach((at, i) => {
    const second = Math.floor((at - leadMs) / 1000);
    buckets.set(second, [...(buckets.get(second) ?? []), c.latenciesMs[i]!]);
  });
  return [...buckets].sort(([a], [b]) => a - b).map(([second, values]) => `${second}: ${percentile(values, 99).toFixed(0)}`).join(', ');
}
