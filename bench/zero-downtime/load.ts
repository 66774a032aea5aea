// A constant, open-loop HTTP load through each web host's proxy: a fixed request rate per host,
// cycling GET / and POST /cgi-bin/echo (with a body) over keep-alive and fresh connections, plain
// or TLS, every answer checked. Bounded: requests stop at stop(), and stragglers are cut after a
// timeout. closedLoop is the other shape: a fixed number of requests in flight for a fixed time.
import { Agent, request, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as TlsAgent, request as tlsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface LoadTarget {
  /** vm1, vm2: names the row of the report. */
  name: string;
  /** The host's proxy port published on 127.0.0.1. */
  port: number;
  /** The HTTP Host header sent (a service's name on a shared proxy); default Node's, 127.0.0.1:port. */
  hostHeader?: string;
  /** The versions GET / may answer with here (one service's); another is a bad body ("wrong service"). Default: any. */
  versions?: readonly string[];
  /** The proxy's HTTPS port published on 127.0.0.1, for TLS kinds (SNI: hostHeader). */
  httpsPort?: number;
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
  /** The only CA TLS kinds trust (PEM); the proxy's certificate must chain to it. */
  ca?: string;
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
export interface RequestKind {
  method: 'GET' | 'POST';
  /** A new connection for this one request (Connection: close); with tls, a full handshake (no session reuse). */
  fresh: boolean;
  /** To the target's httpsPort over TLS. */
  tls?: boolean;
}

export const REQUEST_KINDS: readonly RequestKind[] = [
  { method: 'GET', fresh: false },
  { method: 'GET', fresh: true },
  { method: 'GET', fresh: false },
  { method: 'POST', fresh: false },
  { method: 'GET', fresh: false },
  { method: 'GET', fresh: true },
  { method: 'GET', fresh: false },
  { method: 'POST', fresh: true },
];

/** Pure: a kind's name in reports and failure notes: "GET keep-alive", "POST https fresh". */
export const kindLabel = (k: RequestKind): string => `${k.method} ${k.tls ? 'https ' : ''}${k.fresh ? 'fresh' : 'keep-alive'}`;

/** Pure: the mix of a list of request shapes, for a report ("GET 6 : POST 2 of 8; 3 of 8 on a fresh connection"). */
export function describeMix(kinds: readonly RequestKind[] = REQUEST_KINDS): string {
  const n = kinds.length;
  const get = kinds.filter((k) => k.method === 'GET').length;
  const fresh = kinds.filter((k) => k.fresh).length;
  const tls = kinds.filter((k) => k.tls).length;
  const overTls = tls ? `; ${tls} of ${n} over TLS (HTTP/1.1; a fresh one is a full handshake, no session reuse)` : '';
  return `GET ${get} : POST ${n - get} of ${n}; ${fresh} of ${n} on a fresh connection each (Connection: close), the rest over keep-alive connections${overTls}`;
}

/** One request shape's share of a load. */
export interface KindCounts {
  requests: number;
  failed: number;
  latenciesMs: number[];
  /** TLS connections that resumed a session: a fresh TLS kind must have none. */
  resumed: number;
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
  /** When each of latenciesMs was sent, in ms from the start of the load (same order). */
  sentAtMs: number[];
  /** The same, by request shape (kindLabel). */
  byKind: Map<string, KindCounts>;
  /** Milliseconds the load ran (from start to stop). */
  durationMs: number;
  /** First and last failure times, relative to the start of the load. */
  firstFailureMs?: number;
  lastFailureMs?: number;
}

export const failedOf = (c: LoadCounts): number => c.non2xx + c.socketErrors + c.badBody;

function emptyCounts(): LoadCounts {
  return { requests: 0, ok: 0, non2xx: 0, socketErrors: 0, badBody: 0, failureKinds: new Map(), servedVersions: new Map(), latenciesMs: [], sentAtMs: [], byKind: new Map(), durationMs: 0 };
}

export const emptyKindCounts = (): KindCounts => ({ requests: 0, failed: 0, latenciesMs: [], resumed: 0 });

const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);

/** Pure: what a request that ran out of time was doing: queued in the client, connecting, or sent. */
export function timeoutReason(req: { socket: { connecting?: boolean } | null }): string {
  if (!req.socket) return 'timeout, queued in the client for a keep-alive connection';
  return req.socket.connecting ? 'timeout, connecting' : 'timeout';
}

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
  private readonly tlsAgent: TlsAgent;
  private readonly body: Buffer;
  private sent = 0;
  private inFlight = 0;
  private readonly pending = new Set<() => void>();

  constructor(private readonly target: LoadTarget, private readonly opts: LoadOptions, private readonly startedAt: number) {
    this.agent = new Agent({ keepAlive: true, maxSockets: opts.keepAliveSocketsPerHost });
    this.tlsAgent = new TlsAgent({ keepAlive: true, maxSockets: opts.keepAliveSocketsPerHost, ...(opts.ca ? { ca: opts.ca } : {}) });
    this.body = Buffer.alloc(opts.postBodyBytes, 'x');
  }

  /** Sends what the schedule says is due by now (open loop: the rate does not wait for answers). */
  tick(now: number): void {
    const due = Math.floor(((now - this.startedAt) * this.opts.ratePerHost) / 1000);
    const kinds = this.opts.kinds ?? REQUEST_KINDS;
    while (this.sent < due && this.inFlight < this.opts.maxInFlightPerHost) void this.send(kinds[this.sent++ % kinds.length]!);
  }

  private kindCounts(kind: RequestKind): KindCounts {
    const label = kindLabel(kind);
    let c = this.counts.byKind.get(label);
    if (!c) this.counts.byKind.set(label, (c = emptyKindCounts()));
    return c;
  }

  private fail(kind: RequestKind, reason: string): void {
    this.kindCounts(kind).failed++;
    bump(this.counts.failureKinds, `${reason} (${kindLabel(kind)})`);
    const at = Date.now() - this.startedAt;
    this.counts.firstFailureMs ??= at;
    this.counts.lastFailureMs = at;
  }

  /** Sends one request; settles when it is counted (never rejects). */
  send(kind: RequestKind): Promise<void> {
    const t0 = performance.now();
    const sentAt = Date.now() - this.startedAt;
    this.inFlight++;
    this.counts.requests++;
    const mine = this.kindCounts(kind);
    mine.requests++;
    let settled = false;
    let done!: () => void;
    const counted = new Promise<void>((r) => { done = r; });
    // The timeout counts from the send, not from when the agent hands the request a socket: a
    // request queued behind busy keep-alive connections is as late for its user.
    // Which timeout, so that a report can tell the proxy's silence from the client's own queue:
    // no socket yet = still queued behind this host's busy keep-alive connections in the agent.
    const deadline = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: timeoutReason(req) })), this.opts.requestTimeoutMs);
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      this.inFlight--;
      this.pending.delete(abort);
      const ms = performance.now() - t0;
      this.counts.latenciesMs.push(ms);
      this.counts.sentAtMs.push(sentAt);
      mine.latenciesMs.push(ms);
      outcome();
      done();
    };
    const common: RequestOptions = {
      host: '127.0.0.1',
      method: kind.method,
      path: kind.method === 'GET' ? '/' : '/cgi-bin/echo',
      headers: {
        ...(this.target.hostHeader !== undefined ? { Host: this.target.hostHeader } : {}),
        ...(kind.fresh ? { Connection: 'close' } : {}),
        ...(kind.method === 'POST' ? { 'Content-Type': 'application/octet-stream', 'Content-Length': this.body.length } : {}),
      },
      timeout: this.opts.requestTimeoutMs,
    };
    const onResponse = (res: IncomingMessage) => {
      if (kind.tls && (res.socket as TLSSocket).isSessionReused?.()) mine.resumed++;
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
    };
    const req = kind.tls ? this.tlsRequest(kind, common, onResponse) : request({ ...common, port: this.target.port, agent: kind.fresh ? false : this.agent }, onResponse);
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (err: NodeJS.ErrnoException) => finish(() => { this.counts.socketErrors++; this.fail(kind, err.code ?? err.message); }));
    const abort = () => req.destroy(Object.assign(new Error('cut at the end of the phase'), { code: 'cut' }));
    this.pending.add(abort);
    req.end(kind.method === 'POST' ? this.body : undefined);
    return counted;
  }

  /**
   * A TLS request with SNI = the Host header. Fresh: `agent: false` gives the request an agent of
   * its own, whose session cache is empty, so every one is a full handshake (counted: resumed).
   */
  private tlsRequest(kind: RequestKind, common: RequestOptions, onResponse: (res: IncomingMessage) => void): ClientRequest {
    if (this.target.httpsPort === undefined) throw new Error(`${this.target.name}: a TLS request kind needs the target's httpsPort`);
    const servername = this.target.hostHeader?.split(':')[0];
    return tlsRequest({
      ...common,
      port: this.target.httpsPort,
      ...(servername ? { servername } : {}),
      ...(this.opts.ca ? { ca: this.opts.ca } : {}),
      agent: kind.fresh ? false : this.tlsAgent,
    }, onResponse);
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
    this.tlsAgent.destroy();
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

export interface ClosedLoopOptions {
  /** Requests in flight: each worker sends its next one when its last one is counted. */
  concurrency: number;
  durationMs: number;
}

/**
 * A closed loop of one request shape against one target: `concurrency` workers for `durationMs`,
 * so the rate is what the path sustains (a capacity, not a latency at a set rate). Bounded: no
 * request starts after the deadline, and stragglers are cut after the request timeout.
 */
export async function closedLoop(target: LoadTarget, kind: RequestKind, loop: ClosedLoopOptions, opts: LoadOptions = DEFAULT_LOAD): Promise<LoadCounts> {
  const startedAt = Date.now();
  const load = new HostLoad(target, { ...opts, kinds: [kind] }, startedAt);
  const deadline = startedAt + loop.durationMs;
  await Promise.all(Array.from({ length: loop.concurrency }, async () => {
    while (Date.now() < deadline) await load.send(kind);
  }));
  load.counts.durationMs = Date.now() - startedAt;
  await load.drain(opts.requestTimeoutMs);
  return load.counts;
}
