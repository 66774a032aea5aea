// HTTPS from outside gangway, for the TLS tests (their certificates come from
// test/fixtures/test-certs.ts): one HTTPS GET through a host's published 443 with SNI (trusting only the test CA),
// and a bounded closed-loop HTTPS load (one request at a time per loop, so a failure names its
// request; the bench's open-loop TLS kinds are in bench/zero-downtime/load.ts).
import { Agent, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { SandboxInfo } from '../../../src/sandbox/types.js';

export interface Leaf {
  cert: string;
  key: string;
}

export const httpsPortOf = (info: SandboxInfo, host: string): number => {
  const p = info.hosts.find((h) => h.name === host)!.httpsPort;
  if (!p) throw new Error(`${host} publishes no HTTPS port (a sandbox from before 443 was published)`);
  return p;
};

export interface HttpsAnswer {
  status: number;
  body: string;
  /** The served leaf's SHA-1 fingerprint. */
  fingerprint?: string;
  error?: string;
}

/** One HTTPS GET to a host's proxy with SNI and Host `name`, trusting only `ca`; bounded by `timeoutMs`. */
export function httpsGet(info: SandboxInfo, host: string, name: string, opts: { ca: string; path?: string; agent?: Agent; timeoutMs?: number }): Promise<HttpsAnswer> {
  return new Promise((resolve) => {
    const req = httpsRequest({ host: '127.0.0.1', port: httpsPortOf(info, host), servername: name, path: opts.path ?? '/', headers: { Host: name }, ca: opts.ca, timeout: opts.timeoutMs ?? 5000, agent: opts.agent ?? false }, (res) => {
      const peer = (res.socket as TLSSocket).getPeerCertificate?.();
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim(), ...(peer?.fingerprint ? { fingerprint: peer.fingerprint } : {}) }));
      res.on('error', (err) => resolve({ status: 0, body: '', error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, body: '', error: `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}` }));
    req.end();
  });
}

export interface HttpsLoad {
  info: SandboxInfo;
  hosts: readonly string[];
  names: readonly string[];
  ca: string;
  /** The paths asked for in turn (default `/`). */
  paths?: readonly string[];
  /** Whether an answer is right (a status 200 is required besides); a wrong one is a failure. */
  accept: (answer: HttpsAnswer, path: string) => boolean;
  timeoutMs?: number;
}

/**
 * HTTPS load on every host until `during` settles (or maxMs): per host one loop on a keep-alive
 * agent and one with a fresh connection (a new handshake) per request, the names and paths in turn.
 */
export async function underHttpsLoad<T>(load: HttpsLoad, maxMs: number, during: () => Promise<T>): Promise<{ result: T; requests: number; failures: string[] }> {
  let stop = false;
  let requests = 0;
  const failures: string[] = [];
  const deadline = Date.now() + maxMs;
  const paths = load.paths ?? ['/'];
  const loops = load.hosts.flatMap((host) => [true, false].map(async (keepAlive) => {
    const agent = keepAlive ? new Agent({ keepAlive: true, maxSockets: 1 }) : undefined;
    let i = 0;
    while (!stop && Date.now() < deadline) {
      const name = load.names[i % load.names.length]!;
      const path = paths[i % paths.length]!;
      i++;
      const r = await httpsGet(load.info, host, name, { ca: load.ca, path, ...(agent ? { agent } : {}), ...(load.timeoutMs ? { timeoutMs: load.timeoutMs } : {}) });
      requests++;
      if (r.status !== 200 || !load.accept(r, path)) failures.push(`${host} ${name}${path} ${keepAlive ? 'keep-alive' : 'fresh'}: ${r.status} ${r.error ?? r.body.slice(0, 60)}`);
    }
    agent?.destroy();
  }));
  try {
    return { result: await during(), requests, failures };
  } finally {
    stop = true;
    await Promise.all(loops);
  }
}
