// Per-server traffic counters of `show stat`, what a canary is judged on. Pure: the reply in,
// numbers out. HAProxy keeps them since the server was added (or the proxy started), so a judge
// compares two readings, never one.

import { statRows } from './runtime-parse.js';

export interface ServerCounters {
  /** Server name (the container's). */
  name: string;
  /** Answers the server gave, any status (hrsp_1xx..5xx + hrsp_other). */
  responses: number;
  /** Of those, 5xx. */
  serverErrors: number;
  /** Connections to the server that failed (econ). */
  connectionErrors: number;
  /** Responses that broke off or could not be read (eresp). */
  responseErrors: number;
  /** HAProxy's average time to the response's first byte over the server's last 1024 answers (ms). */
  responseTimeMs: number;
  /** The longest such time HAProxy saw on this server (ms; 0 where the HAProxy has no rtime_max). */
  responseTimeMaxMs: number;
  /** Responses slower than the slot's latency bound while it was set (`show table`, gpc0). */
  slowResponses: number;
}

const RESPONSE_COLUMNS = ['hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other'] as const;

/** Every server row of `backend` in a `show stat` reply (the FRONTEND/BACKEND rows are not servers). */
export function parseServerCounters(text: string, backend: string): ServerCounters[] {
  const num = (v: string) => Number(v || 0);
  return statRows(text)
    .filter((get) => get('pxname') === backend && get('svname') !== 'FRONTEND' && get('svname') !== 'BACKEND')
    .map((get) => ({
      name: get('svname'),
      responses: RESPONSE_COLUMNS.reduce((n, c) => n + num(get(c)), 0),
      serverErrors: num(get('hrsp_5xx')),
      connectionErrors: num(get('econ')),
      responseErrors: num(get('eresp')),
      responseTimeMs: num(get('rtime')),
      responseTimeMaxMs: num(get('rtime_max')),
      slowResponses: 0,
    }));
}

/**
 * A `show table <backend>` reply: each server's count of slow responses (gpc0), by server name.
 * Lines read `0x…: key=<server> use=0 exp=… [shard=0 ]gpc0=N` on 2.6 and 3.0; a server with no
 * response yet has no entry.
 */
export function parseSlowCounts(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const key = /\skey=(\S+)/.exec(line)?.[1];
    const gpc0 = /\sgpc0=(\d+)/.exec(line)?.[1];
    if (key !== undefined && gpc0 !== undefined) out.set(key, Number(gpc0));
  }
  return out;
}

/** Counters of `show stat` with the slow counts of `show table` put in. */
export function withSlowCounts(counters: ServerCounters[], slow: Map<string, number>): ServerCounters[] {
  return counters.map((c) => ({ ...c, slowResponses: slow.get(c.name) ?? 0 }));
}
