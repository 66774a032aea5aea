// Benchmark (not a test): how a deploy's cost grows with the number of hosts (issue 16). On its
// own sandbox ("bench-scale", started once at the largest size that fits), for each size N: the
// hosts reset, `gangway setup` of 1.0.0 on vm1..vmN (not measured), then the measured
// `gangway deploy --version 2.0.0` (web on all N hosts, the example app's two uptests), then the
// bare baseline of the same run deploying 3.0.0 the same way (./baseline.ts). Prints a table, the
// goals judged, writes bench/scale/cost.svg; --record writes the section into BENCHMARKS.md.
// Run: npm run build && npx tsx bench/scale/run.ts [--sizes 1,3,6,12] [--runs 3] [--record]
// Exits non-zero only when the bench itself crashes, never on a missed goal.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Events } from '../../src/events/events.js';
import type { HostStats } from '../../src/hosts/host.js';
import { STATS_FILE_ENV, type StatsReport } from '../../src/hosts/stats.js';
import type { SandboxInfo } from '../../src/sandbox/index.js';
import { writeProject } from '../../test/integration/helpers/deploy.js';
import { recordSection } from '../record.js';
import { waitServed } from '../zero-downtime/baselines.js';
import { eventSpanMs, gangway, ROOT, type CliRun } from '../zero-downtime/cli.js';
import { failureSummary } from '../zero-downtime/phase.js';
import { APP_REPO, benchProxyConfig, benchSandboxDown, benchSandboxUp, pushHelloVersion, resetBenchHosts, type BenchSandbox } from '../zero-downtime/sandbox.js';
import { BARE_UPTESTS } from './baseline.js';
import { bareDeployProcess } from './baseline-process.js';
import { breakdown, goals, medianRow, svgPlot, table, type SizeResult } from './report.js';

const SANDBOX_ID = 'bench-scale';
const KEY = 'bench/scale';
const CLI_TIMEOUT_MS = 900_000;
const VERSIONS = { setup: '1.0.0', gangway: '2.0.0', baseline: '3.0.0' };
const PRIMARY = 'vm1';
const PLOT = fileURLToPath(new URL('./cost.svg', import.meta.url));

const say = (line: string): void => { process.stderr.write(`[bench scale] ${line}\n`); };
const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

function parseSizes(argv: string[]): number[] {
  const at = argv.indexOf('--sizes');
  const raw = at > 0 ? argv[at + 1] ?? '' : '1,3,6,12';
  const sizes = [...new Set(raw.split(',').map((s) => Number(s.trim())))].sort((a, b) => a - b);
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 20)) throw new Error(`--sizes takes host counts from 1 to 20, comma-separated, not "${raw}"`);
  return sizes;
}

interface Run {
  sizes: number[];
  runs: number;
  /** Every measurement, by size, in the order taken. */
  samples: Map<number, SizeResult[]>;
  /** Why the run measured less than asked: the sandbox sizes that did not start, the size that failed. */
  stops: string[];
  sandboxHosts?: number;
  sandboxMs?: number;
}

function mustSucceed(run: CliRun, what: string): void {
  if (run.code !== 0) throw new Error(`${what} failed (exit ${run.code}): ${failureSummary(run) ?? 'no message'}`);
}

async function allServe(info: SandboxInfo, names: string[], version: string): Promise<void> {
  await Promise.all(names.map((n) => waitServed(info.hosts.find((h) => h.name === n)!.httpPort, version, 20_000)));
}

async function measureSize(bench: BenchSandbox, n: number): Promise<SizeResult> {
  const { info } = bench;
  const names = info.hosts.slice(0, n).map((h) => h.name);
  say(`${n} host${n === 1 ? '' : 's'}: reset, gangway setup ${VERSIONS.setup} (not measured)`);
  await resetBenchHosts(info);
  const project = writeProject(info, {
    repo: APP_REPO,
    extra: {
      servers: { web: { hosts: names } },
      proxy: benchProxyConfig(bench),
      env: { clear: { MODE: 'bench' }, secret: ['HELLO_SECRET'] },
      // 12 hosts handshaking at once on 2 busy cores: more room than the tests' 3 s.
      ssh: { user: 'root', identity: info.keyPath, known_hosts: info.knownHostsPath, connect_timeout: '20s', config: false },
      deploy_timeout: '300s',
    },
  });
  mustSucceed(await gangway(['setup', '--version', VERSIONS.setup], project, CLI_TIMEOUT_MS), `gangway setup on ${n} hosts`);
  await allServe(info, names, VERSIONS.setup);

  const statsFile = join(mkdtempSync(join(tmpdir(), 'gangway-bench-scale-')), 'stats.json');
  const before = loadAvg();
  say(`${n} hosts: gangway deploy --version ${VERSIONS.gangway} (load ${before})`);
  const run = await gangway(['deploy', '--version', VERSIONS.gangway], project, CLI_TIMEOUT_MS, { [STATS_FILE_ENV]: statsFile });
  const afterGangway = loadAvg();
  mustSucceed(run, `gangway deploy on ${n} hosts`);
  await allServe(info, names, VERSIONS.gangway);
  const timing = run.events.find((e) => e.type === 'result' && e.kind === 'timing');
  if (timing?.type !== 'result') throw new Error('gangway deploy emitted no timing event');
  if (!existsSync(statsFile)) throw new Error(`gangway deploy wrote no ${STATS_FILE_ENV}`);
  const stats = JSON.parse(readFileSync(statsFile, 'utf8')) as StatsReport;
  say(`${n} hosts: gangway exit 0 in ${(run.wallMs / 1000).toFixed(1)} s; bare baseline deploy of ${VERSIONS.baseline}`);

  const image = `${info.registry.name}/${APP_REPO}:${VERSIONS.baseline}`;
  const bare = await bareDeployProcess(info, names, image, `hello-web-bare-${VERSIONS.baseline}`);
  const afterBaseline = loadAvg();
  await allServe(info, names, VERSIONS.baseline);
  say(`${n} hosts: baseline live ${(bare.timeToLiveMs / 1000).toFixed(1)} s, total ${(bare.totalMs / 1000).toFixed(1)} s`);
  return {
    hosts: n,
    gangway: {
      wallMs: run.wallMs,
      ownMs: eventSpanMs(run.events),
      timeToLiveMs: Number(timing.data.timeToLiveMs),
      totalMs: Number(timing.data.totalMs),
      cpuUserMs: stats.cpuUserMs,
      cpuSystemMs: stats.cpuSystemMs,
      maxRssKb: stats.maxRssKb,
      stats: stats.hosts,
    },
    baseline: { timeToLiveMs: bare.timeToLiveMs, totalMs: bare.totalMs, inProcessTotalMs: bare.inProcess.totalMs, stats: Object.fromEntries(bare.stats) as Record<string, HostStats> },
    load: [before, afterGangway, afterBaseline],
  };
}

/** The sandbox at the largest size that starts, trying the next smaller one after a failure. */
async function sandboxThatFits(events: Events, out: Run): Promise<BenchSandbox | undefined> {
  for (const n of [...out.sizes].reverse()) {
    say(`sandbox "${SANDBOX_ID}" up with ${n} hosts (free memory ${(freemem() / 2 ** 30).toFixed(1)} GiB, load ${loadAvg()})`);
    const t0 = performance.now();
    try {
      const bench = await benchSandboxUp(events, '2.6', { id: SANDBOX_ID, hosts: n, readyTimeoutMs: 300_000 });
      out.sandboxHosts = n;
      out.sandboxMs = performance.now() - t0;
      return bench;
    } catch (err) {
      out.stops.push(`a sandbox of ${n} hosts did not start: ${messageOf(err)}`);
      say(out.stops[out.stops.length - 1]!);
      await benchSandboxDown(events, SANDBOX_ID).catch(() => {});
    }
  }
  return undefined;
}

/** One row per size measured: the medians of its runs. */
const rowsOf = (out: Run): SizeResult[] => [...out.samples].filter(([, rs]) => rs.length > 0).sort(([a], [b]) => a - b).map(([, rs]) => medianRow(rs));

function render(out: Run, startedAt: Date): string {
  const rows = rowsOf(out);
  const measured = rows.map((r) => `${r.hosts} (${out.samples.get(r.hosts)!.length} run${out.samples.get(r.hosts)!.length === 1 ? '' : 's'})`);
  const parts = [
    `Measured ${startedAt.toISOString()}; Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; load average at the end ${loadAvg()}.`,
    `Sizes asked: ${out.sizes.join(', ')}, ${out.runs} run${out.runs === 1 ? '' : 's'} each (in rounds: every size once, smallest first, then again); measured: ${measured.join(', ') || 'none'}; every number below is the median of a size's runs (the total ratio of each run beside it). One sandbox (\`${SANDBOX_ID}\`) of ${out.sandboxHosts ?? '?'} Docker-in-Docker hosts (sshd + inner dockerd), up in ${out.sandboxMs ? (out.sandboxMs / 1000).toFixed(0) : '?'} s; HAProxy 2.6 per host; busybox httpd app (examples/hello).`,
    `Per size N, hosts vm1..vmN reset (containers, gangway's state, the app's images), \`gangway setup --version ${VERSIONS.setup}\` (not measured), then, measured one after the other: **gangway**, \`gangway deploy --version ${VERSIONS.gangway}\` as a child process (\`--json\`), web on all N hosts (boot limit 100 %), the example app's uptests (${BARE_UPTESTS.join(', ')}, in parallel); **baseline**, the bare deploy of ${VERSIONS.baseline} (bench/scale/baseline.ts, run as its own \`node\` process: bundled once by esbuild, packages from node_modules): on every host at once over one SSH connection each, pull, start, add to the proxy and wait for its check, the same two uptests (in one container, as gangway runs them), switch; once all switched, drain, remove the old server, stop the old container. Each deploy pulls an image its hosts do not have.`,
    'Time to live: start to every host switched; total: to every old version stopped and the command done. gangway\'s come from its `timing` event, the baseline\'s from the line it prints at its end, both counted from their own process start (Node start-up and module loading included); the column without start-up counts gangway from its first event and the baseline from its first connection. CLI CPU time and peak RSS: the CLI\'s own `process.resourceUsage()` (getrusage: user + system time, ru_maxrss) written at exit to the file `GANGWAY_STATS_FILE` names; the deploy runs no local child process. Round trips per host: SSH handshakes + exec channels + streams opened to the engine\'s API (forwards of its socket) + Engine API requests (each dockerode call) + forwarded channels (the proxy\'s runtime API), as each host\'s connection counts them (`HostStats`; the baseline uses the same Host class and counters). The lock holder (vm1) does fixed extra work (lock, audit), so the table gives it apart.',
    '',
    table(rows, PRIMARY),
    '',
    'Round trips per host, by kind (mean over the hosts):',
    '',
    breakdown(rows),
    '',
    'Goals:',
    '',
    ...goals(rows, PRIMARY),
    '',
    '![cost against host count](bench/scale/cost.svg)',
  ];
  if (out.stops.length) parts.push('', `Where it stopped and why: ${out.stops.join('; ')}.`);
  return parts.join('\n');
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const startedAt = new Date();
  const runsAt = process.argv.indexOf('--runs');
  const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 3;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs takes a whole number from 1, not ${process.argv[runsAt + 1]}`);
  const out: Run = { sizes: parseSizes(process.argv), runs, samples: new Map(), stops: [] };
  const events = new Events();
  events.on((e) => { if (e.type === 'step' && e.status === 'fail') say(`sandbox: ${e.step} failed on ${e.host ?? '-'}: ${e.message ?? ''}`); });
  let down: Promise<void> | undefined;
  const tearDown = () => (down ??= (say(`sandbox "${SANDBOX_ID}" down`), benchSandboxDown(events, SANDBOX_ID).catch((err: unknown) => say(`sandbox down failed: ${messageOf(err)}`))));
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping`);
    void tearDown().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let crashed: unknown;
  try {
    const bench = await sandboxThatFits(events, out);
    if (bench) {
      say(`pushing hello ${Object.values(VERSIONS).join(', ')}`);
      for (const v of Object.values(VERSIONS)) await pushHelloVersion(bench.info, v, 'ok');
      let sizes = out.sizes.filter((s) => s <= out.sandboxHosts!);
      for (let round = 1; round <= out.runs; round++) {
        say(`round ${round} of ${out.runs}`);
        for (const n of sizes) {
          try {
            const sample = await measureSize(bench, n);
            out.samples.set(n, [...(out.samples.get(n) ?? []), sample]);
          } catch (err) {
            out.stops.push(`at ${n} hosts, round ${round}: ${messageOf(err)}`);
            say(`stopped ${out.stops[out.stops.length - 1]!}`);
            // This size and the larger ones are not tried again; what they measured before stays.
            sizes = sizes.filter((s) => s < n);
            break;
          }
        }
      }
    }
  } catch (err) {
    crashed = err;
  } finally {
    await tearDown();
  }
  const markdown = render(out, startedAt);
  writeFileSync(PLOT, svgPlot(rowsOf(out), `gangway deploy vs the bare baseline, same run, ${startedAt.toISOString().slice(0, 10)}; ${cpus().length} cores`));
  process.stdout.write(`${markdown}\n`);
  say(`plot written to ${PLOT}`);
  if (crashed) throw crashed;
  if (!process.argv.includes('--record')) return;
  const rows = rowsOf(out);
  const top = rows[rows.length - 1]?.hosts ?? 0;
  recordSection(KEY, `Scale: 1 to ${top} hosts`, `npm run build && npx tsx bench/scale/run.ts --sizes ${out.sizes.join(',')} --runs ${out.runs} --record`, markdown);
  say('recorded in BENCHMARKS.md');
}

main().catch((err: unknown) => {
  say(`crashed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
