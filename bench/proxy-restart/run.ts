// Benchmark (not a test): what a restart of the per-host HAProxy container costs the requests in
// flight, at rest and during a deploy's drain, and what a seamless reload (SIGUSR2, as gangway
// applies settings changes, and a plain SIGUSR2 beside it) costs, under a constant open-loop load through both web hosts (vm2's
// proxy is never touched: it is the control). Every sentence after the table is derived from the
// rows.
// Run: npm run build && npx tsx bench/proxy-restart/run.ts [--record] [--reuse <sandbox out dir>]   (BENCH_REPEATS=3)
// Exits non-zero only when the bench itself crashes, never on a number.
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Events } from '../../src/events/events.js';
import { plainRenderer } from '../../src/events/renderers.js';
import { readSandboxInfo, sandboxDown, sandboxUp, type SandboxInfo } from '../../src/sandbox/index.js';
import { gangway, onHost, pushHello, writeProject } from '../../test/integration/helpers/deploy.js';
import { isStep, startGangway } from '../../test/integration/helpers/faults.js';
import { recordSection } from '../record.js';
import { startLoad, type LoadOptions, type LoadResult } from '../zero-downtime/load.js';
import { openHosts, proxyTargetOf } from '../zero-downtime/baselines.js';
import { PROXY_CONTAINER_NAME } from '../../src/proxy/paths.js';
import { CLOSE_BEFORE_RELOAD_MS, seamlessReload } from '../../src/proxy/seamless-reload.js';
import { summary, table, type Kind, type Row } from './report.js';

const SANDBOX_ID = 'bench-proxy-restart';
const REPO = 'bench-proxy-restart/hello';
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const LOAD: LoadOptions = { ratePerHost: 100, postBodyBytes: 512, requestTimeoutMs: 5_000, maxInFlightPerHost: 64, keepAliveSocketsPerHost: 8 };
const LEAD_MS = 1500;
const TAIL_MS = 2500;
const COMMAND = 'npm run build && npx tsx bench/proxy-restart/run.ts --record';
const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** Until the host's proxy answers GET / with 200 again (the restart's outage as a client sees it). */
async function proxyBack(info: SandboxInfo, host: string, since: number): Promise<number> {
  const port = info.hosts.find((h) => h.name === host)!.httpPort;
  while (Date.now() - since < 60_000) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000), headers: { connection: 'close' } });
      await res.text();
      if (res.status === 200) return Date.now() - since;
    } catch {
      // still down
    }
    await sleep(25);
  }
  throw new Error(`the proxy on ${host} did not come back`);
}

async function servedVersion(info: SandboxInfo, host: string): Promise<string> {
  const port = info.hosts.find((h) => h.name === host)!.httpPort;
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) });
    return (await res.text()).trim().replace(/^hello from /, '');
  } catch (err) {
    return `unreachable (${(err as Error).message})`;
  }
}

async function phase(info: SandboxInfo, kind: Kind, name: string, fault: () => Promise<number | undefined>, expectVersion: string): Promise<Row> {
  say(name);
  const load = startLoad(['vm1', 'vm2'].map((h) => ({ name: h, port: info.hosts.find((x) => x.name === h)!.httpPort })), LOAD);
  let proxyBackMs: number | undefined;
  let counts: LoadResult | undefined;
  try {
    await sleep(LEAD_MS);
    proxyBackMs = await fault();
    await sleep(TAIL_MS);
  } finally {
    // No request outlives the phase, even when the fault injection crashed.
    counts = await load.stop();
  }
  const v1 = await servedVersion(info, 'vm1');
  if (!counts) throw new Error('the load did not stop');
  return {
    phase: name,
    kind,
    faulted: counts.byHost.get('vm1')!,
    control: counts.byHost.get('vm2')!,
    unsent: counts.shortfallByHost.get('vm1') ?? 0,
    routesKept: v1 === expectVersion,
    ...(proxyBackMs !== undefined ? { proxyBackMs } : {}),
    after: v1 === expectVersion ? `routes kept: serves ${v1}` : `serves ${v1}, expected ${expectVersion}`,
  };
}


async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const record = args.includes('--record');
  const reuseDir = args.includes('--reuse') ? args[args.indexOf('--reuse') + 1] : undefined;
  const events = new Events();
  events.on(plainRenderer({ out: process.stderr }));
  const reused = reuseDir ? await readSandboxInfo(reuseDir) : undefined;
  const info = reused ?? (await sandboxUp({ id: SANDBOX_ID, hosts: 3, registryPort: 0, outDir: mkdtempSync(join(tmpdir(), 'gangway-bench-proxy-restart-sb-')) }, events));
  const rows: Row[] = [];
  try {
    for (const v of ['1.0.0', '2.0.0']) await pushHello(info, REPO, v, 'ok');
    const project = writeProject(info, { repo: REPO, extra: { env: { clear: { MODE: 'bench' }, secret: ['HELLO_SECRET'] } } });
    const cli = (a: string[]) => gangway(a, { cwd: project, timeoutMs: 180_000 });
    const setup = await cli(['setup', '--version', '1.0.0']);
    if (setup.code !== 0) throw new Error(`setup failed:\n${setup.output}`);
    let live = '1.0.0';

    rows.push(await phase(info, 'baseline', 'baseline: no fault (same window)', async () => { await sleep(3000); return undefined; }, live));
    for (let i = 1; i <= REPEATS; i++) {
      rows.push(await phase(info, 'restart', `docker restart gangway-proxy at rest #${i}`, async () => {
        const t0 = Date.now();
        await onHost(info, 'vm1', 'docker restart -t 5 gangway-proxy >/dev/null');
        return proxyBack(info, 'vm1', t0);
      }, live));
    }
    for (let i = 1; i <= REPEATS; i++) {
      rows.push(await phase(info, 'crash', `proxy crash (kill -9, restart policy) at rest #${i}`, async () => {
        const restarts = async () => Number((await onHost(info, 'vm1', "docker inspect --format '{{.RestartCount}}' gangway-proxy")).trim());
        const before = await restarts();
        const t0 = Date.now();
        await onHost(info, 'vm1', "kill -9 $(docker inspect --format '{{.State.Pid}}' gangway-proxy)");
        // The kill lands asynchronously: an answer before the engine restarted it is the old process.
        while ((await restarts()) === before && Date.now() - t0 < 30_000) await sleep(25);
        return proxyBack(info, 'vm1', t0);
      }, live));
    }
    for (let i = 1; i <= REPEATS; i++) {
      // A bare SIGUSR2: what gangway did for a settings change before it closed connections first.
      rows.push(await phase(info, 'sigusr2', `plain reload (SIGUSR2 to the HAProxy master only) at rest #${i}`, async () => {
        const t0 = Date.now();
        await onHost(info, 'vm1', 'docker kill -s USR2 gangway-proxy >/dev/null');
        return proxyBack(info, 'vm1', t0);
      }, live));
    }
    const [vm1] = await openHosts(info, ['vm1']);
    try {
      for (let i = 1; i <= REPEATS; i++) {
        // What gangway does for a settings change (seamless-reload.ts), the container kept running.
        rows.push(await phase(info, 'reload', `seamless reload as gangway does it (connections closed after their response for ${CLOSE_BEFORE_RELOAD_MS} ms, then SIGUSR2) at rest #${i}`, async () => {
          const t0 = Date.now();
          await seamlessReload(proxyTargetOf(vm1!), await vm1!.docker(), PROXY_CONTAINER_NAME);
          return proxyBack(info, 'vm1', t0);
        }, live));
      }
    } finally {
      await vm1!.close();
    }
    for (let i = 1; i <= REPEATS; i++) {
      const to = live === '1.0.0' ? '2.0.0' : '1.0.0';
      let deployExit = 0;
      const row = await phase(info, 'drain', `docker restart gangway-proxy during the drain (deploy ${live} -> ${to}) #${i}`, async () => {
        const run = startGangway(['deploy', '--version', to], { cwd: project, timeoutMs: 180_000 });
        await run.waitFor(isStep('drain', 'start', 'vm1'), 'the drain on vm1');
        const t0 = Date.now();
        await onHost(info, 'vm1', 'docker restart -t 5 gangway-proxy >/dev/null');
        const back = await proxyBack(info, 'vm1', t0);
        deployExit = (await run.result).code;
        return back;
      }, to);
      row.after = `deploy exit ${deployExit}; ${row.after}`;
      row.deployExit = deployExit;
      rows.push(row);
      live = to;
    }
  } finally {
    if (!reused) await sandboxDown({ id: SANDBOX_ID }, events);
  }

  const section = [
    `Measured ${new Date().toISOString()}, ${cpus().length} cores; load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}. Open-loop load of ${LOAD.ratePerHost} req/s per web host`,
    '(GET and POST, keep-alive and fresh connections) through both proxies; only vm1\'s proxy is restarted or reloaded, vm2 is the control.',
    '',
    ...table(rows),
    '',
    ...summary(rows),
  ];
  process.stdout.write(`${section.join('\n')}\n`);
  if (record) {
    recordSection('bench/proxy-restart', 'Proxy restarts (bench/proxy-restart)', COMMAND, section.join('\n'));
    say('recorded in BENCHMARKS.md');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
