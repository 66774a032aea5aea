// Benchmark (not a test): a constant load through each web host's proxy while gangway deploys,
// refuses a broken version and rolls back, next to the same load at rest, during a naive replace
// on the same HAProxy, and during what people run without a deploy tool (docker stop + run, a
// compose-style recreate, no proxy); and each command's time to live and total next to a bare
// baseline that does the same necessary work (bench/scale/baseline.ts), with the ratio; those
// four are measured in --rounds N rounds (default 5, hosts reset between them) and judged on the
// median ratio: one round's ratio moved from 0.95x to 1.37x on this machine in one afternoon,
// and the median of 3 rounds from 1.05x to 1.27x.
// --rate N sets the requests per second per web host (default: DEFAULT_LOAD's); --proxy 3.0
// runs the hosts' proxies on HAProxy 3.0 (Debian 13's) instead of 2.6 (a section of its own).
// Run: npm run build && npx tsx bench/zero-downtime/run.ts [--rate N] [--proxy 3.0] [--rounds N] [--record]
// Exits non-zero only when the bench itself crashes, never on a missed target.
import { readFileSync } from 'node:fs';
import type { Host } from '../../src/hosts/host.js';
import { BARE_UPTESTS, type BareStep } from '../scale/baseline.js';
import { bareDeployProcess } from '../scale/baseline-process.js';
import { composeRecreate, naiveReplace, openHosts, removeBenchLeftovers, startDirect, stopRunDirect, waitServed, type DirectTimings, type NaiveTimings } from './baselines.js';
import { gangway, stepSpans, type CliRun } from './cli.js';
import { cliPhase as runCliPhase, failureSummary, machineFacts, sandboxBenchMain, timingOf } from './phase.js';
import { DEFAULT_LOAD, describeMix, failedOf, underLoad, type LoadOptions, type LoadResult, type LoadTarget } from './load.js';
import { directTable, failureNotes, mergeCounts, naiveTable, phaseTable, ratioMedians, ratioMediansTable, stepEndsTable, stepTable, timesTable, type PhaseResult, type TimeRow, type TimesRound } from './report.js';
import { APP_REPO, benchProxyLine, pushHelloVersion, resetBenchHosts, writeBenchProject, type BenchSandbox } from './sandbox.js';

const LEAD_MS = 1000;
const TAIL_MS = 2000;
const CLI_TIMEOUT_MS = 180_000;
const WEB_HOSTS = ['vm1', 'vm2'];
const rateArg = process.argv.indexOf('--rate');
const LOAD: LoadOptions = rateArg > 0 ? { ...DEFAULT_LOAD, ratePerHost: Number(process.argv[rateArg + 1]) } : DEFAULT_LOAD;
const DEFAULT_RATE = LOAD.ratePerHost === DEFAULT_LOAD.ratePerHost;
const PROXY_LINE = benchProxyLine();
const roundsArg = process.argv.indexOf('--rounds');
/** How many times gangway's three commands and the bare baseline are measured, each round on hosts reset and set up again. */
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 5;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds takes a whole number from 1, not ${process.argv[roundsArg + 1]}`);
/** Issue 16's goal for gangway's deploy against the bare baseline, both figures. */
const GOAL_RATIO = 1.15;
const COMMAND = `npm run build && npx tsx bench/zero-downtime/run.ts${DEFAULT_RATE ? '' : ` --rate ${LOAD.ratePerHost}`}${PROXY_LINE === '2.6' ? '' : ` --proxy ${PROXY_LINE}`}${ROUNDS === 5 ? '' : ` --rounds ${ROUNDS}`}`;
/** 2.6 keeps the section the bench always recorded; another line records one of its own. */
const KEY = `bench/zero-downtime${DEFAULT_RATE ? '' : `/rate-${LOAD.ratePerHost}`}${PROXY_LINE === '2.6' ? '' : `/haproxy-${PROXY_LINE}`}`;
const AT_REST_MS = 8000;
const BARE_STEPS = `pull, start beside the old one, wait for the proxy's check, uptests (${BARE_UPTESTS.join(', ')}), switch; then drain, remove from the proxy, stop the old one`;

const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The bench's load around `during`, at this run's rate. */
function phaseLoad<T>(targets: LoadTarget[], during: () => Promise<T>): Promise<{ result: T; load: LoadResult }> {
  return underLoad(targets, LEAD_MS, TAIL_MS, during, LOAD);
}

async function served(targets: LoadTarget[], version: string): Promise<string> {
  try {
    await Promise.all(targets.map((t) => waitServed(t.port, version, 3000)));
    return `both web hosts serve ${version} afterwards`;
  } catch (err) {
    return `NOT serving ${version} afterwards: ${(err as Error).message}`;
  }
}

function cliPhase(phase: string, targets: LoadTarget[], project: string, args: string[], expectedCode: number, expectVersion: string): Promise<{ result: PhaseResult; run: CliRun }> {
  return runCliPhase({ phase, project, args, expectedCode, timeoutMs: CLI_TIMEOUT_MS, underLoad: (during) => phaseLoad(targets, during), after: () => served(targets, expectVersion), say, loadAvg });
}

interface RunOutput {
  phases: PhaseResult[];
  deploy?: CliRun;
  /** Per round: gangway's deploy, failed deploy and rollback (both figures from each one's timing event), then the bare baseline. */
  rounds: TimesRound[];
  /** The first round's bare baseline: when each of its steps ended on each host. */
  bareSteps?: BareStep[];
  naive?: NaiveTimings[];
  direct?: Array<DirectTimings & { how: string }>;
  setupMs?: number;
  sandboxMs?: number;
}

/** The bench's hello image of this version, as the hosts pull it. */
const helloImage = (bench: BenchSandbox, version: string): string => `${bench.info.registry.name}/${APP_REPO}:${version}`;

/**
 * One round of the timed comparison, from 1.0.0 set up: gangway deploys 2.0.0, refuses 3.0.0,
 * rolls back to 1.0.0; then the bare baseline deploys 4.0.0 the same way on the same hosts.
 */
async function measuredRound(bench: BenchSandbox, out: RunOutput, targets: LoadTarget[], project: string, round: number): Promise<void> {
  const label = (phase: string) => (round === 1 ? phase : `${phase} (round ${round})`);
  const commands = [
    ['1. deploy v1 → v2', ['deploy', '--version', '2.0.0'], 0, '2.0.0'],
    ['2. failed deploy v3 (dies at start)', ['deploy', '--version', '3.0.0'], 1, '2.0.0'],
    ['3. rollback', ['rollback'], 0, '1.0.0'],
  ] as const;
  const times: TimeRow[] = [];
  for (const [phase, args, code, version] of commands) {
    const p = await cliPhase(label(phase), targets, project, [...args], code, version);
    out.phases.push(p.result);
    out.deploy ??= p.run;
    const timing = timingOf(p.run);
    if (!timing) throw new Error(`${label(phase)}: gangway printed no timing event (exit ${p.run.code})`);
    times.push({ what: `gangway ${args.join(' ')} (${phase.replace(/^\d+\. /, '')}): exit ${p.run.code}`, liveMs: timing.liveMs, totalMs: timing.totalMs, ...(p.result.loadAvg ? { loadAvg: p.result.loadAvg } : {}) });
  }
  say(`${label('4. bare baseline deploy')} 1.0.0 → 4.0.0 on both web hosts at once (no gangway), under load`);
  const bare = await phaseLoad(targets, () => bareDeployProcess(bench.info, WEB_HOSTS, helloImage(bench, '4.0.0'), 'hello-web-bench-bare'));
  const bareLoad = loadAvg();
  out.bareSteps ??= bare.result.steps;
  out.rounds.push({ gangway: times, bare: { what: `bare baseline 1.0.0 → 4.0.0 (${BARE_STEPS})`, liveMs: bare.result.timeToLiveMs, totalMs: bare.result.totalMs, loadAvg: bareLoad } });
  out.phases.push({ phase: label('4. bare baseline deploy (no gangway)'), outcome: BARE_STEPS, gangway: false, opMs: bare.result.totalMs, load: bare.load, note: await served(targets, '4.0.0'), loadAvg: bareLoad });
}

async function runPhases(bench: BenchSandbox, out: RunOutput): Promise<void> {
  say('pushing hello 1.0.0, 2.0.0, 3.0.0 (broken) and 4.0.0 (for the bare baseline) to the bench registry');
  const image = (v: string) => helloImage(bench, v);
  await pushHelloVersion(bench.info, '1.0.0', 'ok');
  await pushHelloVersion(bench.info, '2.0.0', 'ok');
  await pushHelloVersion(bench.info, '3.0.0', 'broken');
  await pushHelloVersion(bench.info, '4.0.0', 'ok');
  // Web on the two web hosts only: the bare baseline deploys those, and a deploy of the workers
  // too (a third host, waiting for the first healthy web container) would be work it does not do.
  const project = writeBenchProject(bench, { MODE: 'bench' }, { servers: { web: { hosts: WEB_HOSTS } } });

  say('gangway setup --version 1.0.0 (no load: there is nothing to serve yet)');
  const setup = await gangway(['setup', '--version', '1.0.0'], project, CLI_TIMEOUT_MS);
  if (setup.code !== 0) throw new Error(`gangway setup failed (exit ${setup.code}): ${failureSummary(setup)}`);
  out.setupMs = setup.wallMs;

  const targets: LoadTarget[] = WEB_HOSTS.map((name) => ({ name, port: bench.info.hosts.find((h) => h.name === name)!.httpPort }));
  await Promise.all(targets.map((t) => waitServed(t.port, '1.0.0', 10_000)));

  say(`0. the same load at rest for ${AT_REST_MS / 1000} s (no operation): what the machine does at this rate`);
  const rest = await phaseLoad(targets, () => new Promise((r) => setTimeout(r, AT_REST_MS)));
  out.phases.push({ phase: '0. at rest (no operation)', outcome: '-', gangway: false, opMs: AT_REST_MS, load: rest.load, loadAvg: loadAvg() });

  await measuredRound(bench, out, targets, project, 1);
  for (let round = 2; round <= ROUNDS; round++) {
    say(`round ${round} of ${ROUNDS}: hosts reset (containers, state, the app's images), gangway setup --version 1.0.0 (not measured)`);
    await resetBenchHosts(bench.info);
    const again = await gangway(['setup', '--version', '1.0.0'], project, CLI_TIMEOUT_MS);
    if (again.code !== 0) throw new Error(`gangway setup for round ${round} failed (exit ${again.code}): ${failureSummary(again)}`);
    await Promise.all(targets.map((t) => waitServed(t.port, '1.0.0', 10_000)));
    await measuredRound(bench, out, targets, project, round);
  }

  const hosts: Host[] = await openHosts(bench.info, WEB_HOSTS);
  try {
    say('5. naive replace: stop 1.0.0, start 2.0.0, re-point the proxy server, under load');
    const naive = await phaseLoad(targets, async () => {
      const t0 = performance.now();
      const rows = await Promise.all(hosts.map((h) => naiveReplace(h, image('2.0.0'), '2.0.0', targets.find((t) => t.name === h.name)!.port)));
      return { rows, opMs: performance.now() - t0 };
    });
    out.naive = naive.result.rows;
    out.phases.push({ phase: '5. baseline: naive replace behind the proxy', outcome: 'stop old, start new, re-point server (HAProxy retries 3, redispatch)', gangway: false, opMs: naive.result.opMs, load: naive.load, note: await served(targets, '2.0.0'), loadAvg: loadAvg() });

    // Without a deploy tool: no proxy, the app on the host's :80. Each host is set up (untimed).
    say('6-7. without a deploy tool: gangway removed from the web hosts, 1.0.0 published on :80');
    await Promise.all(hosts.map((h) => startDirect(h, image('1.0.0'))));
    await Promise.all(targets.map((t) => waitServed(t.port, '1.0.0', 20_000)));
    out.direct = [];
    for (const [phase, how, to, replace] of [
      ['6. baseline: docker stop + docker run -p (no proxy)', 'docker stop, rm, run -p 80:80', '2.0.0', stopRunDirect],
      ['7. baseline: compose-style recreate (no proxy)', 'stop, rename aside, create, start, rm old', '1.0.0', composeRecreate],
    ] as const) {
      say(`${phase} -> ${to}, under load`);
      const direct = await phaseLoad(targets, async () => {
        const t0 = performance.now();
        const rows = await Promise.all(hosts.map((h) => replace(h, image(to), to, targets.find((t) => t.name === h.name)!.port)));
        return { rows, opMs: performance.now() - t0 };
      });
      out.direct.push(...direct.result.rows.map((r) => ({ ...r, how: phase })));
      out.phases.push({ phase, outcome: how, gangway: false, opMs: direct.result.opMs, load: direct.load, note: await served(targets, to), loadAvg: loadAvg() });
    }
  } finally {
    await Promise.all(hosts.map((h) => removeBenchLeftovers(h, ['hello-web-bench-bare']).catch(() => {})));
    await Promise.all(hosts.map((h) => h.close().catch(() => {})));
  }
}

function render(out: RunOutput, startedAt: Date): string {
  const parts = [
    `Measured ${startedAt.toISOString()}; ${machineFacts(PROXY_LINE, loadAvg())}`,
    `gangway deploys the web role only, on vm1 and vm2, as the bare baseline does. Load: ${LOAD.ratePerHost} req/s per web host (vm1, vm2) sent to its :80 on 127.0.0.1 (the proxy; in phases 6-7 the app itself), open loop; GET / and POST /cgi-bin/echo (${LOAD.postBodyBytes}-byte body, answer checked): ${describeMix(LOAD.kinds)}, ${LOAD.keepAliveSocketsPerHost} keep-alive connections per host; a request fails on a non-2xx, a socket error, a wrong body or no answer within ${LOAD.requestTimeoutMs / 1000} s. Each phase: load for ${LEAD_MS / 1000} s, the operation, ${TAIL_MS / 1000} s more.`,
    '',
    phaseTable(out.phases),
    '',
    ...failureNotes(out.phases, LEAD_MS),
  ];
  if (out.rounds.length) {
    parts.push('', `Time to live (command start to every web host switched) and total (to the old versions stopped and the command's end), same run, same load; ${out.rounds.length} round${out.rounds.length === 1 ? '' : 's'}, each on hosts reset and set up with 1.0.0 again (the first round is phases 1-4 above, round N's phases carry "(round N)"):`, '', timesTable(out.rounds));
    parts.push('', 'Each ratio is to the bare baseline of the same round; the median over the rounds:', '', ratioMediansTable(out.rounds));
    const deploy = ratioMedians(out.rounds)[0];
    if (deploy) {
      const failed = out.phases.filter((p) => p.gangway).reduce((n, p) => n + failedOf(mergeCounts(p.load)), 0);
      const met = deploy.live !== null && deploy.live <= GOAL_RATIO && deploy.total <= GOAL_RATIO && failed === 0;
      parts.push('', `Goal (issue 16): gangway's deploy at most ${GOAL_RATIO.toFixed(2)}x the bare baseline for time to live and for total, 0 failed requests: median live ${deploy.live === null ? '-' : `${deploy.live.toFixed(2)}x`}, total ${deploy.total.toFixed(2)}x over ${out.rounds.length} round${out.rounds.length === 1 ? '' : 's'}; ${failed} failed requests in all of gangway's phases: ${met ? 'met' : 'not met'}.`);
    }
    parts.push('', `gangway's figures come from its \`timing\` event (\`--json\`), counted from its process start (Node start-up included); the bare baseline's the same way: it runs as its own \`node\` process (bench/scale/baseline-process.ts: bundled once by esbuild, packages from node_modules) and counts from that process's start. The bare baseline is bench/scale/baseline.ts: on every web host at once, ${BARE_STEPS}; none of gangway's lock, audit, labels, hooks, observe, undo or prune.`);
  }
  if (out.deploy) parts.push('', 'Where the deploy v1 → v2 spent its time (from `--json` step events; seconds from its first event):', '', stepTable(stepSpans(out.deploy.events)));
  if (out.deploy && out.bareSteps) parts.push('', 'When each step ended on each host, the first round\'s deploy v1 → v2 beside its bare baseline (gangway from its first event, the baseline from just before its first connection; each after its own process start-up):', '', stepEndsTable(stepSpans(out.deploy.events), out.bareSteps, WEB_HOSTS));
  if (out.naive?.length) parts.push('', 'Naive replace timings:', '', naiveTable(out.naive));
  if (out.direct?.length) parts.push('', 'Without a deploy tool (no proxy) timings:', '', directTable(out.direct));
  if (out.sandboxMs !== undefined) parts.push('', `Sandbox up ${(out.sandboxMs / 1000).toFixed(1)} s; gangway setup v1 ${((out.setupMs ?? 0) / 1000).toFixed(1)} s (not under load).`);
  return parts.join('\n');
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const out: RunOutput = { phases: [], rounds: [] };
  await sandboxBenchMain({
    key: KEY,
    heading: `Zero downtime: deploy, failed deploy, rollback under load (${LOAD.ratePerHost} req/s per web host, HAProxy ${PROXY_LINE})`,
    command: COMMAND,
    proxyLine: PROXY_LINE,
    say,
    phases: async (bench, sandboxMs) => {
      out.sandboxMs = sandboxMs;
      await runPhases(bench, out);
    },
    render: () => render(out, startedAt),
  });
}

main().catch((err: unknown) => {
  say(`crashed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
