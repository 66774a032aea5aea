// Ready when an HTTP request to a path on the published port answers with the expected status.
// HTTP has no event to listen to, so it probes: right away, again on every new log line (a
// server often logs when it starts listening), and on a short backoff in between.
import { request } from 'node:http';
import { DEFAULT_WAIT_TIMEOUT_MS, type WaitStrategy, type WaitTarget } from './wait-strategy.js';
import { probeLoop } from './probe-loop.js';

export interface HttpWaitOptions {
  /** Container port; default: the first published port. */
  port?: number;
  /** Expected status, or a test; default 200. */
  status?: number | ((status: number) => boolean);
  method?: string;
  headers?: Readonly<Record<string, string>>;
  timeoutMs?: number;
}

const PROBE_TIMEOUT_MS = 2_000;

export class HttpWait implements WaitStrategy {
  readonly description: string;
  readonly timeoutMs: number;

  constructor(private readonly path: string, private readonly options: HttpWaitOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    const status = typeof options.status === 'function' ? 'a matching status' : `HTTP ${options.status ?? 200}`;
    this.description = `${status} on ${options.port ? `:${options.port}` : ''}${path}`;
  }

  waitUntilReady(target: WaitTarget, signal: AbortSignal): Promise<void> {
    const hostPort = this.options.port === undefined ? target.firstHostPort() : target.hostPort(this.options.port);
    const expected = this.options.status ?? 200;
    const accepts = typeof expected === 'function' ? expected : (s: number) => s === expected;
    return probeLoop(target, signal, async () => {
      const status = await probeStatus(hostPort, this.path, this.options.method ?? 'GET', this.options.headers ?? {});
      return status !== undefined && accepts(status);
    });
  }
}

/** One request without keep-alive: a pooled socket to a half-started server would lie. */
export function probeStatus(hostPort: number, path: string, method: string, headers: Readonly<Record<string, string>>): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: hostPort, path, method, headers, agent: false, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
