// Benchmark (not a test): HTTPS on the shared proxy (issue 15) under load, on its own sandbox.
// A service with one name on vm1+vm2 and its own certificate (proxy.ssl: { certificate_pem,
// private_key_pem }, from gangway secrets), signed by a test CA made at run time; plain HTTP to
// the same name is served too (ssl_redirect: false), so both go through the same proxy, route and
// app in one run:
//   1. at rest: plain HTTP and HTTPS, keep-alive and a fresh connection per request (a full TLS
//      handshake, no session reuse), the same rate each: what TLS adds, per kind of connection;
//   2. capacity: a closed loop (bounded in-flight requests, bounded seconds) of fresh TLS
//      connections + one GET each, against the same with fresh plain connections, per host;
//   3. deploy 2.0.0 under the mixed load of 1: 0 failed;
//   4. a new certificate for the same name by a redeploy of 2.0.0, under HTTPS load: 0 failed,
//      and the new certificate served afterwards.
// --rate N sets the requests per second per web host of the open-loop phases (default 80, 20 per
// shape); --proxy 3.0 runs HAProxy 3.0.
// Run: npm run build && npx tsx bench/zero-downtime/https.ts [--rate N] [--proxy 3.0] [--record]
// Exits non-zero only when the bench itself crashes, never on a missed target.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as tlsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import Docker from 'dockerode';
import { TestCa, type TestCert } from '../../test/fixtures/test-certs.js';
import { waitServed } from './baselines.js';
import { gangway } from './cli.js';
import { closedLoop, DEFAULT_LOAD, describeMix, failedOf, kindLabel, underLoad, type LoadOptions, type LoadResult, type LoadTarget, type RequestKind } from './load.js';
import { cliPhase, failureSummary, machineFacts, recordingPhases, sandboxBenchMain } from './phase.js';
import { failureNotes, mergeCounts, phaseTable, type PhaseResult } from './report.js';
import { cpuMsBelow } from './proc-cpu.js';
import { benchProxyConfig, benchProxyLine, pushHelloVersion, writeBenchProject, type BenchSandbox } from './sandbox.js';
import { capacityTable, installTimes, kindTable, p99BySecond, tlsCost, tlsCostTable, type CapacityRow } from './tls-report.js';

const LEAD_MS = 1000;
const TAIL_MS = 2000;
const AT_REST_MS = 10_000;
/** The mixed load runs this long before phase 1, uncounted: the first connections and processes of a fresh setup. */
const WARM_UP_MS = 3000;
const CLI_TIMEOUT_MS = 180_000;
const WEB_HOSTS = ['vm1', 'vm2'];
const NAME = 'shop.test';
const SANDBOX = { id: 'bench-https', hosts: 3 };
const CAPACITY = { concurrency: 8, durationMs: 5000 };
const DEFAULT_RATE = 80;
const rateArg = process.argv.indexOf('--rate');
const RATE = rateArg > 0 ? Number(process.argv[rateArg + 1]) : DEFAULT_RATE;
const PROXY_LINE = benchProxyLine();
const COMMAND = `npm run build && npx tsx bench/zero-downtime/https.ts${RATE === DEFAULT_RATE ? '' : ` --rate ${RATE}`}${PROXY_LINE === '2.6' ? '' : ` --proxy ${PROXY_LINE}`}`;
const KEY = `bench/zero-downtime/https${RATE === DEFAULT_RATE ? '' : `/rate-${RATE}`}${PROXY_LINE === '2.6' ? '' : `/haproxy-${PROXY_LINE}`}`;

const HTTP_KEEP_ALIVE: RequestKind = { method: 'GET', fresh: false };
const HTTP_FRESH: RequestKind = { method: 'GET', fresh: true };
const HTTPS_KEEP_ALIVE: RequestKind = { method: 'GET', fresh: false, tls: true };
const HTTPS_FRESH: RequestKind = { method: 'GET', fresh: true, tls: true };
/** Every shape in turn: each gets a quarter of the rate, so they are compared at the same rate. */
const MIXED = [HTTP_KEEP_ALIVE, HTTPS_KEEP_ALIVE, HTTP_FRESH, HTTPS_FRESH];
const HTTPS_ONLY = [HTTPS_KEEP_ALIVE, HTTPS_FRESH];

const say = (line: string) => process.stderr.write(`[bench https] ${line}\n`);
const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Output {
  /** Open-loop phases: at rest, the deploy, the certificate change. */
  phases: PhaseResult[];
  capacity: CapacityRow[];
  /** Whether each host served the new certificate after phase 4. */
  certificateChecks: string[];
  sandboxMs?: number;
  crashed?: string;
}

const secretsOf = (leaf: TestCert): NodeJS.ProcessEnv => ({ TLS_CERT: leaf.cert, TLS_KEY: leaf.key });

/** One GET / over a new TLS connection with SNI NAME, trusting only `ca`: status, body and the served leaf. */
function tlsGet(port: number, ca: string): Promise<{ status: number; body: string; fingerprint?: string }> {
  return new Promise((resolve) => {
    const req = tlsRequest({ host: '127.0.0.1', port, path: '/', servername: NAME, headers: { Host: NAME }, ca, agent: false, timeout: 2000 }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint;
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim(), fingerprint }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
    req.end();
  });
}

async function waitServedTls(port: number, version: string, ca: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await tlsGet(port, ca);
    if (r.status === 200 && r.body === `hello from ${version}`) return;
    if (Date.now() > deadline) throw new Error(`https://127.0.0.1:${port} (SNI ${NAME}) did not serve ${version} within ${timeoutMs} ms (last: ${r.status} ${r.body.slice(0, 80)})`);
    await sleep(100);
  }
}

/** Both web hosts serve `version` over HTTP and HTTPS afterwards: the phase's note. */
async function served(targets: LoadTarget[], version: string, ca: string): Promise<string> {
  try {
    await Promise.all(targets.flatMap((t) => [waitServed(t.port, version, 3000, NAME), waitServedTls(t.httpsPort!, version, ca, 3000)]));
    return `both web hosts serve ${version} over HTTP and HTTPS afterwards`;
  } catch (err) {
    return `NOT serving ${version} afterwards: ${(err as Error).message}`;
  }
}

async function runPhases(bench: BenchSandbox, ca: TestCa, out: Output): Promise<void> {
  const { info } = bench;
  const caPem = readFileSync(ca.certFile, 'utf8');
  const load: LoadOptions = { ...DEFAULT_LOAD, ratePerHost: RATE, ca: caPem };
  const first = ca.issue('first', [NAME], 30);
  const second = ca.issue('second', [NAME], 30);
  say('pushing hello 1.0.0 and 2.0.0 to the bench registry');
  await pushHelloVersion(info, '1.0.0', 'ok');
  await pushHelloVersion(info, '2.0.0', 'ok');
  const project = writeBenchProject(bench, { MODE: 'bench' }, {
    servers: { web: { hosts: WEB_HOSTS } },
    proxy: benchProxyConfig(bench, { hosts: [NAME], ssl: { certificate_pem: 'TLS_CERT', private_key_pem: 'TLS_KEY' }, ssl_redirect: false }),
  });
  say('gangway setup --version 1.0.0 with the first certificate (no load: nothing to serve yet)');
  const setup = await gangway(['setup', '--version', '1.0.0'], project, CLI_TIMEOUT_MS, secretsOf(first));
  if (setup.code !== 0) throw new Error(`gangway setup failed (exit ${setup.code}): ${failureSummary(setup)}`);
  const targets: LoadTarget[] = WEB_HOSTS.map((name) => {
    const h = info.hosts.find((x) => x.name === name)!;
    if (!h.httpsPort) throw new Error(`${name} publishes no HTTPS port`);
    return { name, port: h.httpPort, httpsPort: h.httpsPort, hostHeader: NAME, versions: ['1.0.0', '2.0.0'] };
  });
  await Promise.all(targets.map((t) => waitServedTls(t.httpsPort!, '1.0.0', caPem, 10_000)));

  say(`warm-up: ${WARM_UP_MS / 1000} s of the mixed load, not counted`);
  await underLoad(targets, 0, 0, () => sleep(WARM_UP_MS), { ...load, kinds: MIXED });
  say(`1. at rest for ${AT_REST_MS / 1000} s: ${MIXED.map(kindLabel).join(', ')}`);
  const rest = await underLoad(targets, LEAD_MS, TAIL_MS, () => sleep(AT_REST_MS), { ...load, kinds: MIXED });
  out.phases.push({ phase: '1. at rest (no operation)', outcome: '-', gangway: false, opMs: AT_REST_MS, load: rest.load, loadAvg: loadAvg() });

  // One host and one shape at a time: the closed loop takes whatever the machine gives it. The
  // CPU of the bench process and of that host's HAProxy say which side ran out.
  const docker = new Docker();
  for (const t of targets) {
    const hostPid = (await docker.getContainer(info.hosts.find((h) => h.name === t.name)!.containerId).inspect()).State.Pid;
    for (const kind of [HTTPS_FRESH, HTTP_FRESH]) {
      say(`2. capacity on ${t.name}: ${kindLabel(kind)}, ${CAPACITY.concurrency} in flight for ${CAPACITY.durationMs / 1000} s`);
      const cpu0 = process.cpuUsage();
      const [proxy0] = cpuMsBelow([hostPid], 'haproxy');
      const counts = await closedLoop(t, kind, CAPACITY, load);
      const cpu = process.cpuUsage(cpu0);
      const [proxy1] = cpuMsBelow([hostPid], 'haproxy');
      out.capacity.push({ host: t.name, kind: kindLabel(kind), concurrency: CAPACITY.concurrency, counts, clientCpuMs: (cpu.user + cpu.system) / 1000, proxyCpuMs: proxy1! - proxy0!, loadAvg: loadAvg() });
    }
  }

  const common = { project, timeoutMs: CLI_TIMEOUT_MS, expectedCode: 0, say, loadAvg };
  out.phases.push((await cliPhase({ ...common, phase: '3. deploy 1.0.0 → 2.0.0, HTTP and HTTPS load', args: ['deploy', '--version', '2.0.0'], env: secretsOf(first), underLoad: (d) => underLoad(targets, LEAD_MS, TAIL_MS, d, { ...load, kinds: MIXED }), after: () => served(targets, '2.0.0', caPem) })).result);

  const wanted = new X509Certificate(second.cert).fingerprint;
  const change = await cliPhase({ ...common, phase: '4. new certificate for the same name (redeploy 2.0.0), HTTPS load', args: ['deploy', '--version', '2.0.0'], env: secretsOf(second), underLoad: (d) => underLoad(targets, LEAD_MS, TAIL_MS, d, { ...load, kinds: HTTPS_ONLY }), after: () => served(targets, '2.0.0', caPem) });
  // When each proxy got the new certificate, on the failure notes' clock (seconds after the operation started).
  const installed = installTimes(change.run.events, change.result.load.startedAt + LEAD_MS);
  change.result.note = [change.result.note, installed && `the new certificate was in the running proxy (set + commit done, gangway's log) ${installed}`].filter(Boolean).join('; ');
  out.phases.push(change.result);
  for (const t of targets) {
    const got = await tlsGet(t.httpsPort!, caPem);
    out.certificateChecks.push(`${t.name}: ${got.fingerprint === wanted ? 'serves the new certificate' : `does NOT serve the new certificate (${got.status} ${got.body.slice(0, 60)})`}`);
  }
}

/** The FAILED line: 0 is the target of every phase gangway ran in. */
function verdict(phases: PhaseResult[]): string {
  const failed = phases.filter((p) => p.gangway).map((p) => [p.phase, failedOf(mergeCounts(p.load))] as const);
  const total = failed.reduce((n, [, f]) => n + f, 0);
  const per = failed.map(([p, f]) => `${p}: ${f}`).join('; ');
  return total === 0 ? `Failed requests while gangway ran: 0 (${per}).` : `**FAILED: ${total} failed requests while gangway ran** (${per}; target 0).`;
}

function render(out: Output, startedAt: Date): string {
  const rest = out.phases.find((p) => p.phase.startsWith('1.'));
  const parts = [
    `Measured ${startedAt.toISOString()}; ${machineFacts(PROXY_LINE, loadAvg())}`,
    `Service: one name (${NAME}) on vm1 and vm2 with its own certificate (EC P-256 leaf from a test CA made at run time, given as gangway secrets), \`ssl_redirect: false\` so plain HTTP to the same name reaches the same route and app. Clients: Node's, on 127.0.0.1 to each host's published :80 and :443, trusting only the test CA, SNI ${NAME}, HTTP/1.1 (Node offers no h2).`,
    `Open-loop load: ${RATE} req/s per web host (after ${WARM_UP_MS / 1000} s of it uncounted, at the start), GET / only (answer checked: "hello from <version>"), the shapes in turn (${MIXED.map(kindLabel).join(', ')}; phase 4: ${HTTPS_ONLY.map(kindLabel).join(', ')}): ${describeMix(MIXED)}; ${DEFAULT_LOAD.keepAliveSocketsPerHost} keep-alive connections per host and scheme; a request fails on a non-2xx, a socket error, a wrong body or no answer within ${DEFAULT_LOAD.requestTimeoutMs / 1000} s. Each phase: load for ${LEAD_MS / 1000} s, the operation, ${TAIL_MS / 1000} s more.`,
    '',
    phaseTable(out.phases),
    '',
    verdict(out.phases),
    '',
    `Per request shape (latency from the send to the last byte of the answer: a fresh shape's connection and handshake included, and a keep-alive shape's wait in the client for one of its ${DEFAULT_LOAD.keepAliveSocketsPerHost} connections per host and scheme, which grows once answers take longer than ${DEFAULT_LOAD.keepAliveSocketsPerHost} / its rate):`,
    '',
    kindTable(out.phases),
  ];
  if (rest) parts.push('', `What TLS adds, at rest (phase 1, ${RATE / MIXED.length} req/s per host of each shape, same run), against plain HTTP on the same kind of connection:`, '', tlsCostTable(tlsCost(mergeCounts(rest.load).byKind)));
  if (out.capacity.length) {
    parts.push('', `Capacity: a closed loop per host and shape, one at a time, ${CAPACITY.concurrency} requests in flight for ${CAPACITY.durationMs / 1000} s, each a new connection and one GET / (for HTTPS a full handshake: ECDHE and the P-256 leaf's signature). Per second = answered with the right body. The client runs on the same 2 cores as the hosts: the CPU the bench process and that host's HAProxy (its processes' utime + stime from /proc, in 10 ms ticks) used during the loop are shown, as cores busy and per request: when neither is near a core, the loop waited on the machine (other processes, the Docker port forwarders), and CPU ms per request is what TLS costs each side.`, '', capacityTable(out.capacity));
  }
  parts.push('', ...failureNotes(out.phases, LEAD_MS), ...out.certificateChecks.map((c) => `- after phase 4, ${c}`));
  parts.push(...out.phases.filter((p) => p.gangway).map((p) => `- ${p.phase}: p99 ms of the requests sent in each second, 0 = the second the command started (every shape and host): ${p99BySecond(mergeCounts(p.load), LEAD_MS)}`));
  if (out.sandboxMs !== undefined) parts.push('', `Sandbox up ${(out.sandboxMs / 1000).toFixed(1)} s.`);
  if (out.crashed) parts.push('', `The bench stopped early: ${out.crashed}`);
  return parts.join('\n');
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const out: Output = { phases: [], capacity: [], certificateChecks: [] };
  const ca = new TestCa('gangway bench CA');
  try {
    await sandboxBenchMain({
      key: KEY,
      heading: `HTTPS under load: TLS cost, handshake capacity, deploy and certificate change (${RATE} req/s per web host, HAProxy ${PROXY_LINE})`,
      command: COMMAND,
      proxyLine: PROXY_LINE,
      shape: SANDBOX,
      say,
      phases: recordingPhases(out, (bench) => runPhases(bench, ca, out)),
      render: () => render(out, startedAt),
    });
  } finally {
    ca.remove();
  }
}

main().catch((err: unknown) => {
  say(`crashed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
