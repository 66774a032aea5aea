// HTTPS from outside gangway, for the TLS tests: a test CA and leaf certificates made with the
// openssl CLI, one HTTPS GET through a host's published 443 with SNI (trusting only the test CA),
// and a bounded HTTPS load (the smallest TLS client of the tests' own: bench/zero-downtime/load.ts
// speaks plain HTTP only).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import type { SandboxInfo } from '../../../src/sandbox/types.js';

export interface Leaf {
  cert: string;
  key: string;
}

/** A self-signed EC test CA in `dir` (ca.pem, ca.key); returns its certificate. */
export function makeTestCa(dir: string): string {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'), '-days', '2', '-subj', '/CN=gangway test CA'], { stdio: 'ignore' });
  return readFileSync(join(dir, 'ca.pem'), 'utf8');
}

/** A leaf for `names` signed by the test CA in `dir`, with a fresh key each time (`i` names its files). */
export function makeLeaf(dir: string, names: readonly string[], i: number): Leaf {
  const key = join(dir, `leaf${i}.key`);
  const csr = join(dir, `leaf${i}.csr`);
  const cert = join(dir, `leaf${i}.pem`);
  const ext = join(dir, 'ext');
  writeFileSync(ext, `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`);
  execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${names[0]}`], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext], { stdio: 'ignore' });
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
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
