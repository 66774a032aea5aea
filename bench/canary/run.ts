// Benchmark (not a test): what a bad version costs the users when it is deployed as a canary and
// when it is deployed plainly. The bad version (the example app's `errors` variant: GET / answers
// 500 on about 1 request in 5) passes its health checks and uptests, so a plain deploy ships it to
// everyone; a canary at 10% sees it and gives the traffic back. Same open-loop load, same window
// (from the deploy's start), same run, alternating, on its own 3-host sandbox.
// Run: npm run build && npx tsx bench/canary/run.ts [--record] [--reuse <sandbox out dir>]   (BENCH_REPEATS=2)
// Exits non-zero only when the bench itself crashes, never on a number.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { Events } from '../../src/events/events.js';
import { plainRenderer } from '../../src/events/renderers.js';
import { readSandboxInfo, sandboxDown, sandboxUp, type SandboxInfo } from '../../src/sandbox/index.js';
import { gangway, pushHello, writeProject } from '../../test/integration/helpers/deploy.js';
import { recordSection } from '../record.js';
import { failedOf, startLoad, type LoadOptions } from '../zero-downtime/load.js';

const SANDBOX_ID = 'bench-canary';
const REPO = 'bench-canary/hello';
const REPEATS = Number(process.env.BENCH_REPEATS ?? 2);
/** GET / only: the request the bad version gets wrong. 30 req/s per web host is what this 2-core machine serves without saturating (test/integration/helpers/faults.ts). */
const LOAD: LoadOptions = { ratePerHost: 30, postBodyBytes: 256, requestTimeoutMs: 30_000, maxInFlightPerHost: 1000, keepAliveSocketsPerHost: 8, kinds: [{ method: 'GET', fresh: false }, { method: 'GET', fresh: true }] };
/** Every phase is measured over this window from the deploy's start, whatever the deploy does. */
const WINDOW_MS = 60_000;
const CANARY = { steps: ['10%', '50%'], interval: '30s', max_error_rate: '1%', min_requests: 20 };
const COMMAND = 'npm run build && npx tsx bench/canary/run.ts --record';
const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  mode: 'canary' | 'plain';
  repeat: number;
  exit: number;
  requests: number;
  failed: number;
  /** Failures by kind ("500 (GET fresh)": n). */
  kinds: string;
  /** What GET / answers on vm1 and vm2 at the window's end. */
  servedAfter: string;
  /** Seconds from the deploy's start to its end. */
  deploySeconds: number;
}

async function served(info: SandboxInfo, host: string): Promise<string> {
  const port = info.hosts.find((h) => h.name === host)!.httpPort;
  const seen = new Set<string>();
  for (let i = 0; i < 10; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) });
      seen.add(res.status === 200 ? (await res.text()).trim().replace(/^hello from /, '') : `HTTP ${res.status}`);
    } catch (err) {
      seen.add(`unreachable (${(err as Error).message})`);
    }
  }
  return [...seen].sort().join(' + ');
}

function setCanary(project: string): void {
  const file = join(project, 'gangway.yml');
  writeFileSync(file, stringify({ ...(parse(readFileSync(file, 'utf8')) as object), canary: CANARY }));
}

async function phase(info: SandboxInfo, project: string, mode: Row['mode'], repeat: number, version: string): Promise<Row> {
  say(`${mode} deploy of the bad ${version} #${repeat}`);
  const load = startLoad(['vm1', 'vm2'].map((h) => ({ name: h, port: info.hosts.find((x) => x.name === h)!.httpPort })), LOAD);
  const t0 = Date.now();
  const r = await gangway(['deploy', ...(mode === 'canary' ? ['--canary'] : []), '--version', version], { cwd: project, timeoutMs: 180_000 });
  const deploySeconds = (Date.now() - t0) / 1000;
  await sleep(Math.max(0, WINDOW_MS - (Date.now() - t0)));
  const counts = await load.stop();
  const all = [...counts.byHost.values()];
  const kinds = new Map<string, number>();
  for (const c of all) for (const [k, n] of c.failureKinds) kinds.set(k, (kinds.get(k) ?? 0) + n);
  const servedAfter = `vm1 ${await served(info, 'vm1')}, vm2 ${await served(info, 'vm2')}`;
  return {
    mode, repeat, exit: r.code, deploySeconds,
    requests: all.reduce((n, c) => n + c.requests, 0),
    failed: all.reduce((n, c) => n + failedOf(c), 0),
    kinds: [...kinds].map(([k, n]) => `${k}: ${n}`).join(', ') || 'none',
    servedAfter,
  };
}

const pct = (n: number, of: number) => (of === 0 ? '0.00' : ((100 * n) / of).toFixed(2));

function render(rows: Row[]): string[] {
  const lines = [
    `Measured ${new Date().toISOString()}, ${cpus().length} cores; load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}. Open-loop GET / load of ${LOAD.ratePerHost} req/s per web host`,
    `(half keep-alive, half fresh connections) through both proxies, counted over ${WINDOW_MS / 1000} s from each deploy's start. The bad version answers 500 on about 1 GET / in 5 and passes`,
    `its health checks and uptests. Canary: \`${JSON.stringify(CANARY)}\`. Phases alternate (canary, plain, canary, plain...), each from the good version serving.`,
    '',
    '| phase | deploy exit | deploy took | requests | failed | failed % | failures | served at the window\'s end |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.mode} #${r.repeat} | ${r.exit} | ${r.deploySeconds.toFixed(1)} s | ${r.requests} | ${r.failed} | ${pct(r.failed, r.requests)} | ${r.kinds} | ${r.servedAfter} |`),
    '',
  ];
  const sum = (mode: Row['mode']) => rows.filter((r) => r.mode === mode).reduce((a, r) => ({ requests: a.requests + r.requests, failed: a.failed + r.failed }), { requests: 0, failed: 0 });
  const c = sum('canary');
  const p = sum('plain');
  if (c.requests > 0 && p.requests > 0) {
    lines.push(`In all: the canary let ${c.failed} of ${c.requests} requests fail (${pct(c.failed, c.requests)}%), the plain deploy ${p.failed} of ${p.requests} (${pct(p.failed, p.requests)}%)` +
      (c.failed > 0 ? `: ${(p.failed / c.failed).toFixed(1)} times as many.` : '.') +
      ' The plain deploy\'s failures go on after the window for as long as the bad version serves; the canary\'s stop at its abort.');
  }
  return lines;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const reuseDir = args.includes('--reuse') ? args[args.indexOf('--reuse') + 1] : undefined;
  const events = new Events();
  events.on(plainRenderer({ out: process.stderr }));
  const reused = reuseDir ? await readSandboxInfo(reuseDir) : undefined;
  const info = reused ?? (await sandboxUp({ id: SANDBOX_ID, hosts: 3, registryPort: 0, outDir: mkdtempSync(join(tmpdir(), 'gangway-bench-canary-sb-')) }, events));
  const rows: Row[] = [];
  let crashed: unknown;
  try {
    await pushHello(info, REPO, '1.0.0', 'ok');
    await pushHello(info, REPO, '2.0.0', 'errors');
    const project = writeProject(info, { repo: REPO, extra: { env: { clear: { MODE: 'bench' }, secret: ['HELLO_SECRET'] } } });
    setCanary(project);
    const cli = (a: string[]) => gangway(a, { cwd: project, timeoutMs: 180_000 });
    const setup = await cli(['setup', '--version', '1.0.0']);
    if (setup.code !== 0) throw new Error(`setup failed:\n${setup.output}`);
    for (let i = 1; i <= REPEATS; i++) {
      rows.push(await phase(info, project, 'canary', i, '2.0.0'));
      rows.push(await phase(info, project, 'plain', i, '2.0.0'));
      // Back to the good version for the next pair (gated like a deploy; not measured).
      const back = await cli(['deploy', '--version', '1.0.0']);
      if (back.code !== 0) throw new Error(`deploy back to 1.0.0 failed:\n${back.output}`);
    }
  } catch (err) {
    crashed = err;
  } finally {
    if (!reused) await sandboxDown({ id: SANDBOX_ID }, events).catch((err: unknown) => say(`sandbox down failed: ${(err as Error).message}`));
  }
  const section = render(rows);
  process.stdout.write(`${section.join('\n')}\n`);
  if (crashed) throw crashed;
  if (args.includes('--record')) {
    recordSection('bench/canary', 'Canary vs plain deploy of a bad version (bench/canary)', COMMAND, section.join('\n'));
    say('recorded in BENCHMARKS.md');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
