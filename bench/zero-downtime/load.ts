// A constant, open-loop HTTP load through each web host's proxy: a fixed request rate per host,
// cycling GET / and POST /cgi-bin/echo (with a body) over keep-alive and fresh connections, every
// answer checked. Bounded: requests stop at stop(), and stragglers are cut after a timeout.
import { Agent, request, type IncomingMessage } from 'node:http';

export interface LoadTarget {
  /** vm1, vm2: names the row of the report. */
  name: string;
  /** The host's proxy port published on 127.0.0.1. */
  port: number;
  /** The HTTP Host header sent (a service's name on a shared proxy); default Node's, 127.0.0.1:port. */
  hostHeader?: string;
  /** The versions GET / may answer with here (one service's); another is a bad body ("wrong service"). Default: any. */
  versions?: readonly string[];
}

export interface LoadOptions {
  ratePerHost: number;
  postBodyBytes: number;
  requestTimeoutMs: number;
  /** Requests in flight per host; past it the generator waits (and reports the shortfall). */
  maxInFlightPerHost: number;
  keepAliveSocketsPerHost: number;
  /** The request shapes sent in turn (default REQUEST_KINDS). */
  kinds?: readonly RequestKind[];
  /** Judges a 2xx body (default checkBody, the hello app's answers): for an app that answers otherwise. */
  checkBody?: (kind: RequestKind, body: string) => { ok: boolean; version?: string };
}

export const DEFAULT_LOAD: LoadOptions = {
  ratePerHost: 320,
  postBodyBytes: 1024,
  requestTimeoutMs: 10_000,
  maxInFlightPerHost: 256,
  keepAliveSocketsPerHost: 16,
};

/**
 * The request shapes, used in turn: 2 of 8 POST (each one forks a CGI process in the busybox
 * app, the costly request here) and 3 of 8 on a fresh connection (describeMix says so from the
 * list itself). 50/50 mixes saturate this 2-core machine below 300 req/s per host before any
 * deploy starts (see calibrate.ts).
 */
export const REQUEST_KINDS = [
  { method: 'GET', fresh: false },
  { method: 'GET', fresh: true },
  { method: 'GET', fresh: false },
  { method: 'POST', fresh: false },
  { method: 'GET', fresh: false },
  { method: 'GET', fresh: true },
  { method: 'GET', fresh: false },
  { method: 'POST', fresh: true },
] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** Pure: the mix of a list of request shapes, for a report ("GET 6 : POST 2 of 8; 3 of 8 on a fresh connection"). */
export function describeMix(kinds: readonly RequestKind[] = REQUEST_KINDS): string {
  const n = kinds.length;
  const get = kinds.filter((k) => k.method === 'GET').length;
  const fresh = kinds.filter((k) => k.fresh).length;
  return `GET ${get} : POST ${n - get} of ${n}; ${fresh} of ${n} on a fresh connection each (Connection: close), the rest over keep-alive connections`;
}

export interface LoadCounts {
  requests: number;
  ok: number;
  non2xx: number;
  socketErrors: number;
  /** 2xx with a body that is not what the app sends (wrong echo length, not "hello from"). */
  badBody: number;
  /** Failures by kind, e.g. "503", "ECONNRESET", "timeout", "GET fresh". */
  failureKinds: Map<string, number>;
  /** Which version answered GET / (from "hello from <version>"). */
  servedVersions: Map<string, number>;
  latenciesMs: number[];
  /** Milliseconds the load ran (from start to stop). */
  durationMs: number;
  /** First and last failure times, relative to the start of the load. */
  firstFailureMs?: number;
  lastFailureMs?: number;
}

export const failedOf = (c: LoadCounts): number => c.non2xx + c.socketErrors + c.badBody;

function emptyCounts(): LoadCounts {
  return { requests: 0, ok: 0, non2xx: 0, socketErrors: 0, badBody: 0, failureKinds: new Map(), servedVersions: new Map(), latenciesMs: [], durationMs: 0 };
}

const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);

/** Pure: is this 2xx body what the app answers to this request? Returns the served version for GET. */
export function checkBody(kind: RequestKind, body: string, postBodyBytes: number): { ok: boolean; version?: string } {
  if (kind.method === 'POST') return { ok: body.trim() === String(postBodyBytes) };
  const m = /^hello from (\S+)/.exec(body);
  return m ? { ok: true, version: m[1]! } : { ok: false };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

class HostLoad {
  readonly counts = emptyCounts();
  private readonly agent: Agent;
  private readonly body: Buffer;
  private sent = 0;
  private inFlight = 0;
  private readonly pending = new Set<() => void>();

  constructor(private readonly target: LoadTarget, private readonly opts: LoadOptions, private readonly startedAt: number) {
    this.agent = new Agent({ keepAlive: true, maxSockets: opts.keepAliveSocketsPerHost });
    this.body = Buffer.alloc(opts.postBodyBytes, 'x');
  }

  /** Sends what the schedule says is due by now (open loop: the rate does not wait for answers). */
  tick(now: number): void {
    const due = Math.floor(((now - this.startedAt) * this.opts.ratePerHost) / 1000);
    const kinds = this.opts.kinds ?? REQUEST_KINDS;
    while (this.sent < due && this.inFlight < this.opts.maxInFlightPerHost) this.send(kinds[this.sent++ % kinds.length]!);
  }

  private fail(kind: RequestKind, reason: string): void {
    bump(this.counts.failureKinds, `${reason} (${kind.method} ${kind.fresh ? 'fresh' : 'keep-alive'})`);
    const at = Date.now() - this.startedAt;
    this.counts.firstFailureMs ??= at;
    this.counts.lastFailureMs = at;
  }

  private send(kind: RequestKind): void {
    const t0 = performance.now();
    this.inFlight++;
    this.counts.requests++;
    let settled = false;
    // The timeout counts from the send, not from when the agent hands the request a socket: a
    // request queued behind busy keep-alive connections is as late for its user.
    const deadline = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })), this.opts.requestTimeoutMs);
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      this.inFlight--;
      this.pending.delete(abort);
      this.counts.latenciesMs.push(performance.now() - t0);
      outcome();
    };
    const req = request({
      host: '127.0.0.1',
      port: this.target.port,
      method: kind.method,
      path: kind.method === 'GET' ? '/' : '/cgi-bin/echo',
      agent: kind.fresh ? false : this.agent,
      headers: {
        ...(this.target.hostHeader !== undefined ? { Host: this.target.hostHeader } : {}),
        ...(kind.fresh ? { Connection: 'close' } : {}),
        ...(kind.method === 'POST' ? { 'Content-Type': 'application/octet-stream', 'Content-Length': this.body.length } : {}),
      },
      timeout: this.opts.requestTimeoutMs,
    }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err: NodeJS.ErrnoException) => finish(() => { this.counts.socketErrors++; this.fail(kind, err.code ?? 'response error'); }));
      res.on('end', () => finish(() => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          this.counts.non2xx++;
          this.fail(kind, String(status));
          return;
        }
        const text = Buffer.concat(chunks).toString('utf8');
        const checked = this.opts.checkBody ? this.opts.checkBody(kind, text) : checkBody(kind, text, this.body.length);
        if (!checked.ok) {
          this.counts.badBody++;
          this.fail(kind, 'bad body');
          return;
        }
        if (checked.version && this.target.versions && !this.target.versions.includes(checked.version)) {
          this.counts.badBody++;
          this.fail(kind, `wrong service (${checked.version})`);
          return;
        }
        this.counts.ok++;
        if (checked.version) bump(this.counts.servedVersions, checked.version);
      }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (err: NodeJS.ErrnoException) => finish(() => { this.counts.socketErrors++; this.fail(kind, err.code ?? err.message); }));
    const abort = () => req.destroy(Object.assign(new Error('cut at the end of the phase'), { code: 'cut' }));
    this.pending.add(abort);
    req.end(kind.method === 'POST' ? this.body : undefined);
  }

  /** Due requests the in-flight cap held back: nonzero means the target rate was not reached. */
  shortfall(now: number): number {
    return Math.max(0, Math.floor(((now - this.startedAt) * this.opts.ratePerHost) / 1000) - this.sent);
  }

  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const abort of [...this.pending]) abort();
    this.agent.destroy();
  }
}

export interface LoadResult {
  /** When the load started (epoch ms): failure times are relative to it. */
  startedAt: number;
  byHost: Map<string, LoadCounts>;
  /** Due requests never sent because of the in-flight cap, by host. */
  shortfallByHost: Map<string, number>;
}

export interface RunningLoad {
  stop(): Promise<LoadResult>;
}

export function startLoad(targets: LoadTarget[], opts: LoadOptions = DEFAULT_LOAD): RunningLoad {
  const startedAt = Date.now();
  const loads = targets.map((t) => ({ target: t, load: new HostLoad(t, opts, startedAt) }));
  // 5 ms ticks: smooth enough at a few hundred requests per second without busy-looping.
  const timer = setInterval(() => {
    const now = Date.now();
    for (const { load } of loads) load.tick(now);
  }, 5);
  return {
    async stop() {
      clearInterval(timer);
      const stoppedAt = Date.now();
      // A timer that ran late (a busy event loop) leaves requests due but not sent yet: send them,
      // so that the shortfall counts only what the in-flight cap held back.
      for (const { load } of loads) load.tick(stoppedAt);
      const shortfallByHost = new Map(loads.map(({ target, load }) => [target.name, load.shortfall(stoppedAt)]));
      await Promise.all(loads.map(({ load }) => load.drain(opts.requestTimeoutMs)));
      for (const { load } of loads) load.counts.durationMs = stoppedAt - startedAt;
      return { startedAt, byHost: new Map(loads.map(({ target, load }) => [target.name, load.counts])), shortfallByHost };
    },
  };
}

/** Runs `during` under load, with the load already running leadMs before and still tailMs after. */
export async function underLoad<T>(targets: LoadTarget[], leadMs: number, tailMs: number, during: () => Promise<T>, opts: LoadOptions = DEFAULT_LOAD): Promise<{ result: T; load: LoadResult }> {
  const load = startLoad(targets, opts);
  let result: T;
  try {
    await new Promise((r) => setTimeout(r, leadMs));
    result = await during();
    await new Promise((r) => setTimeout(r, tailMs));
  } catch (err) {
    // No request outlives the phase, even when the operation crashed.
    await load.stop();
    throw err;
  }
  return { result, load: await load.stop() };
}
