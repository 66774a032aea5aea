// Benchmark (not a test): gangway and Kamal 2.12 (with kamal-proxy 0.9.2) side by side, in one
// run, on the same sandbox hosts (web on vm1 and vm2), the same app images and the same load:
// deploy 1.0.0 → 2.0.0, a deploy of 3.0.0 (dies at start), a release of 4.0.0 that starts healthy
// but fails gangway's uptests (its GET /version answers "unknown": gangway refuses it, Kamal has
// no uptests and ships it), and a rollback. gangway runs its phases first; then the hosts are
// cleaned of everything gangway left (each tool has its own proxy on :80) and Kamal runs its own.
// Kamal runs from one long-lived container on the sandbox network, built by bench/kamal/build.sh
// from Debian packages and the two upstream sources (bare git directories; see bench/kamal/README.md).
// --rate N: requests per second per web host (default 50, the rate the issue measured Kamal at);
// --busy: a burner in every host during every command (test/integration/helpers/busy.ts).
// Run: npm run build && npx tsx bench/zero-downtime/kamal.ts --kamal-git DIR --kamal-proxy-git DIR [--rate N] [--busy] [--record]
// (or GANGWAY_BENCH_KAMAL_GIT / GANGWAY_BENCH_KAMAL_PROXY_GIT). Exits 2 on bad arguments before
// anything is touched; non-zero otherwise only when the bench itself crashes, never on a missed goal.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SandboxInfo } from '../../src/sandbox/index.js';
import { startBurners, stopBurners } from '../../test/integration/helpers/busy.js';
import { onHost, resetHosts } from '../../test/integration/helpers/deploy.js';
import { waitServed } from './baselines.js';
import type { GangwayEvent } from '../../src/events/events.js';
import { gangway, stepSpans } from './cli.js';
import { verdict, verdictTable, type ToolPhase, type Verdict } from './kamal-config.js';
import { buildKamalImages, pushKamalProxy, pushLabelledHello, startKamal, tailOf, type KamalRunner } from './kamal-runner.js';
import { DEFAULT_LOAD, describeMix, failedOf, percentile, underLoad, type LoadOptions, type LoadTarget } from './load.js';
import { failureSummary, machineFacts, outcomeOf, recordingPhases, sandboxBenchMain } from './phase.js';
import { failureNotes, mergeCounts, phaseTable, stepTable, type PhaseResult } from './report.js';
import { APP_REPO, writeBenchProject, type BenchSandbox } from './sandbox.js';
import { startVersionProbe, type ProbeCounts } from './version-probe.js';

const LEAD_MS = 1000;
const TAIL_MS = 2000;
const AT_REST_MS = 5000;
const CMD_TIMEOUT_MS = 300_000;
const GANGWAY_HOSTS = ['vm1', 'vm2'];
const SERVICE = 'hello';
/** Kamal's default deploy_timeout; gangway's is set to the same. */
const DEPLOY_TIMEOUT_S = 30;
const PROBE_RATE = 5;
const DEFAULT_RATE = 50;
const BURN_MAX_S = 300;
/** Its own sandbox, so that it never tears down (or is torn down by) another bench's "bench". */
const SANDBOX_ID = 'bench-kamal';

const say = (line: string) => process.stderr.write(`[bench kamal] ${line}\n`);
const s1 = (ms: number) => (ms / 1000).toFixed(1);
const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

interface Args {
  rate: number;
  busy: boolean;
  interleave: boolean;
  kamalGit: string;
  proxyGit: string;
}

function usage(message: string): never {
  process.stderr.write(`bench/zero-downtime/kamal.ts: ${message}\nusage: npx tsx bench/zero-downtime/kamal.ts --kamal-git DIR --kamal-proxy-git DIR [--rate N] [--busy] [--interleave] [--record]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const value = (flag: string) => {
    const at = argv.indexOf(flag);
    if (at < 0) return undefined;
    const v = argv[at + 1];
    if (v === undefined || v.startsWith('--')) usage(`${flag} needs a value`);
    return v;
  };
  const rateText = value('--rate');
  const rate = rateText === undefined ? DEFAULT_RATE : Number(rateText);
  if (!Number.isFinite(rate) || rate <= 0) usage(`--rate: expected a positive number of requests per second per web host, got ${JSON.stringify(rateText)}`);
  const gitDir = (flag: string, env: string) => {
    const dir = value(flag) ?? process.env[env];
    if (!dir) usage(`${flag} (or ${env}) is required: a bare git directory (git clone --bare)`);
    if (!existsSync(join(dir, 'HEAD')) || !existsSync(join(dir, 'objects'))) usage(`${flag}: ${dir} is not a bare git directory (no HEAD and objects/)`);
    return dir;
  };
  return { rate, busy: argv.includes('--busy'), interleave: argv.includes('--interleave'), kamalGit: gitDir('--kamal-git', 'GANGWAY_BENCH_KAMAL_GIT'), proxyGit: gitDir('--kamal-proxy-git', 'GANGWAY_BENCH_KAMAL_PROXY_GIT') };
}

const ARGS = parseArgs(process.argv);
/** Same hosts one tool after the other; with --interleave each tool has its own two (same image), phases alternating. */
const KAMAL_HOSTS = ARGS.interleave ? ['vm3', 'vm4'] : GANGWAY_HOSTS;
/** vm3 (a worker host in the other benches) stays idle here; with --interleave vm4 is Kamal's second. */
const SANDBOX_HOSTS = ARGS.interleave ? 4 : 3;
const LOAD: LoadOptions = { ...DEFAULT_LOAD, ratePerHost: ARGS.rate };
const SUFFIX = `${ARGS.rate === DEFAULT_RATE ? '' : `/rate-${ARGS.rate}`}${ARGS.busy ? '/busy' : ''}${ARGS.interleave ? '/interleaved' : ''}`;
const KEY = `bench/zero-downtime/kamal${SUFFIX}`;
const COMMAND = `npm run build && npx tsx bench/zero-downtime/kamal.ts --kamal-git DIR --kamal-proxy-git DIR${ARGS.rate === DEFAULT_RATE ? '' : ` --rate ${ARGS.rate}`}${ARGS.busy ? ' --busy' : ''}${ARGS.interleave ? ' --interleave' : ''}`;

type Tool = 'gangway' | 'Kamal';

/** A tool's command as the bench runs it: how it ended and took, and a line when not as expected. */
interface Ran {
  code: number;
  wallMs: number;
  outcome: string;
  problem?: string;
  /** The tool's own account of its time (gangway's timing event, Kamal's "Finished all in"). */
  own?: string;
  /** gangway's --json events, for where a deploy spent its time. */
  events?: GangwayEvent[];
}

interface Step {
  phase: string;
  command: string;
  run: () => Promise<Ran>;
  /** The version both web hosts must serve afterwards. */
  serves: string;
}

interface Measured {
  tool: Tool;
  step: string;
  result: PhaseResult;
  probe: ProbeCounts;
  events?: GangwayEvent[];
}

interface Output {
  measured: Measured[];
  setup: Partial<Record<Tool, number>>;
  kamalImages?: string;
  sandboxMs?: number;
  crashed?: string;
}

const PHASES = {
  deploy: '1. deploy 1.0.0 → 2.0.0',
  broken: '2. deploy 3.0.0 (dies at start)',
  uptests: '3. release 4.0.0 (healthy, fails the uptests)',
  rollback: '4. rollback',
} as const;

async function serving(targets: LoadTarget[], version: string): Promise<string> {
  const checks = await Promise.allSettled(targets.map((t) => waitServed(t.port, version, 3000)));
  const missed = checks.flatMap((c) => (c.status === 'rejected' ? [(c.reason as Error).message] : []));
  return missed.length === 0 ? `both web hosts serve ${version} afterwards` : `NOT serving ${version} afterwards: ${missed.join('; ')}`;
}

async function measure(bench: BenchSandbox, c: Contender, step: Step): Promise<Measured> {
  const { tool, targets, hosts } = c;
  say(`${tool}: ${step.phase}: ${step.command}${ARGS.busy ? ' (busy hosts)' : ''}`);
  const probe = startVersionProbe(targets, PROBE_RATE);
  const { result: ran, load } = await underLoad(targets, LEAD_MS, TAIL_MS, async () => {
    if (ARGS.busy) await startBurners(bench.info, hosts, `${bench.info.registry.name}/${APP_REPO}:1.0.0`, BURN_MAX_S);
    try {
      return await step.run();
    } finally {
      if (ARGS.busy) await stopBurners(bench.info, hosts);
    }
  }, LOAD);
  const probed = await probe.stop();
  const after = await serving(targets, step.serves);
  say(`${tool}: ${step.phase}: ${ran.outcome} in ${(ran.wallMs / 1000).toFixed(1)} s, ${failedOf(mergeCounts(load))} failed, ${probed.wrong} wrong /version; ${after}`);
  const note = [ran.own, after, ran.problem].filter(Boolean).join('; ');
  return { tool, step: step.phase, probe: probed, ...(ran.events ? { events: ran.events } : {}), result: { phase: `${tool}: ${step.phase}`, outcome: ran.outcome, gangway: tool === 'gangway', opMs: ran.wallMs, load, note, loadAvg: loadAvg() } };
}

async function atRest({ tool, targets }: Contender): Promise<Measured> {
  const probe = startVersionProbe(targets, PROBE_RATE);
  const { load } = await underLoad(targets, LEAD_MS, TAIL_MS, () => new Promise((r) => setTimeout(r, AT_REST_MS)), LOAD);
  return { tool, step: '0. at rest', probe: await probe.stop(), result: { phase: `${tool}: 0. at rest (no command)`, outcome: '-', gangway: false, opMs: AT_REST_MS, load, loadAvg: loadAvg() } };
}

function gangwaySteps(project: string): Step[] {
  const cli = (args: string[], expected: number) => async (): Promise<Ran> => {
    const run = await gangway(args, project, CMD_TIMEOUT_MS);
    const timing = run.events.find((e) => e.type === 'result' && e.kind === 'timing');
    const own = timing?.type === 'result' ? `gangway's timing event: live after ${s1(Number(timing.data.timeToLiveMs))} s, done after ${s1(Number(timing.data.totalMs))} s` : undefined;
    return { code: run.code, wallMs: run.wallMs, outcome: `gangway ${args.join(' ')}: ${outcomeOf(run, expected)}`, events: run.events, ...(own ? { own } : {}), ...(run.code === expected ? {} : { problem: failureSummary(run) ?? '' }) };
  };
  return [
    { phase: PHASES.deploy, command: 'gangway deploy --version 2.0.0', run: cli(['deploy', '--version', '2.0.0'], 0), serves: '2.0.0' },
    { phase: PHASES.broken, command: 'gangway deploy --version 3.0.0', run: cli(['deploy', '--version', '3.0.0'], 1), serves: '2.0.0' },
    { phase: PHASES.uptests, command: 'gangway deploy --version 4.0.0', run: cli(['deploy', '--version', '4.0.0'], 1), serves: '2.0.0' },
    { phase: PHASES.rollback, command: 'gangway rollback', run: cli(['rollback'], 0), serves: '1.0.0' },
  ];
}

function kamalSteps(kamal: KamalRunner): Step[] {
  const cmd = (args: string[], succeeds: boolean) => async (): Promise<Ran> => {
    const run = await kamal.kamal(args, CMD_TIMEOUT_MS);
    const asExpected = (run.code === 0) === succeeds;
    const finished = /Finished all in ([\d.]+) seconds/.exec(run.output);
    return { code: run.code, wallMs: run.wallMs, ...(finished ? { own: `Kamal's own "Finished all in ${finished[1]} seconds"` } : {}), outcome: `kamal ${args.join(' ')}: exit ${run.code}${asExpected ? '' : ` (expected ${succeeds ? '0' : 'non-zero'})`}`, ...(asExpected ? {} : { problem: tailOf(run) }) };
  };
  return [
    { phase: PHASES.deploy, command: 'kamal deploy -P --version 2.0.0', run: cmd(['deploy', '-P', '--version', '2.0.0'], true), serves: '2.0.0' },
    { phase: PHASES.broken, command: 'kamal deploy -P --version 3.0.0', run: cmd(['deploy', '-P', '--version', '3.0.0'], false), serves: '2.0.0' },
    // Kamal has no uptests: the release is healthy to its check, so it ships (exit 0 expected).
    { phase: PHASES.uptests, command: 'kamal deploy -P --version 4.0.0', run: cmd(['deploy', '-P', '--version', '4.0.0'], true), serves: '4.0.0' },
    // gangway's rollback goes back to the release before the live one (1.0.0); Kamal's to the
    // last good one it shipped, 2.0.0 (it names the version, and 4.0.0 is live).
    { phase: PHASES.rollback, command: 'kamal rollback 2.0.0', run: cmd(['rollback', '2.0.0'], true), serves: '2.0.0' },
  ];
}

/** Every web host's :80 free (no proxy of either tool published), or an error naming what holds it. */
async function assertPort80Free(info: SandboxInfo): Promise<void> {
  for (const h of GANGWAY_HOSTS) {
    const held = (await onHost(info, h, 'docker ps --filter publish=80 --format "{{.Names}}"')).trim();
    if (held) throw new Error(`${h}: port 80 is still published by ${held} after the clean-up`);
  }
}

/** A tool ready to be measured: its web hosts, its load targets, its four steps. */
interface Contender {
  tool: Tool;
  hosts: readonly string[];
  targets: LoadTarget[];
  steps: Step[];
}

const targetsOf = (info: SandboxInfo, hosts: readonly string[]): LoadTarget[] => hosts.map((name) => ({ name, port: info.hosts.find((h) => h.name === name)!.httpPort }));

/** gangway set up on its web hosts (no load: nothing to serve yet), web role only as Kamal's config, Kamal's deploy timeout. */
async function setUpGangway(bench: BenchSandbox, hosts: readonly string[], out: Output): Promise<Contender> {
  const project = writeBenchProject(bench, { MODE: 'bench' }, { servers: { web: { hosts: [...hosts] } }, deploy_timeout: `${DEPLOY_TIMEOUT_S}s` });
  say(`gangway setup --version 1.0.0 on ${hosts.join(', ')} (no load)`);
  const setup = await gangway(['setup', '--version', '1.0.0'], project, CMD_TIMEOUT_MS);
  if (setup.code !== 0) throw new Error(`gangway setup failed (exit ${setup.code}): ${failureSummary(setup)}`);
  out.setup.gangway = setup.wallMs;
  const targets = targetsOf(bench.info, hosts);
  await Promise.all(targets.map((t) => waitServed(t.port, '1.0.0', 15_000)));
  return { tool: 'gangway', hosts, targets, steps: gangwaySteps(project) };
}

async function setUpKamal(bench: BenchSandbox, kamal: KamalRunner, hosts: readonly string[], out: Output): Promise<Contender> {
  say(`kamal setup -P --version 1.0.0 on ${hosts.join(', ')} (no load)`);
  const ks = await kamal.kamal(['setup', '-P', '--version', '1.0.0'], CMD_TIMEOUT_MS);
  if (ks.code !== 0) throw new Error(`kamal setup failed (exit ${ks.code}): ${tailOf(ks, 8)}`);
  out.setup.Kamal = ks.wallMs;
  const targets = targetsOf(bench.info, hosts);
  await Promise.all(targets.map((t) => waitServed(t.port, '1.0.0', 15_000)));
  return { tool: 'Kamal', hosts, targets, steps: kamalSteps(kamal) };
}

async function runAll(bench: BenchSandbox, c: Contender, out: Output): Promise<void> {
  out.measured.push(await atRest(c));
  for (const step of c.steps) out.measured.push(await measure(bench, c, step));
}

async function runPhases(bench: BenchSandbox, out: Output): Promise<void> {
  const { info } = bench;
  say('building (or finding cached) the Kamal images');
  const images = await buildKamalImages(ARGS.kamalGit, ARGS.proxyGit, say);
  out.kamalImages = `${images.tools}, ${images.proxy}`;
  say('pushing hello 1.0.0, 2.0.0, 3.0.0 (dies at start), 4.0.0 (fails its uptests), labelled service=hello, and kamal-proxy');
  for (const [v, variant] of [['1.0.0', 'ok'], ['2.0.0', 'ok'], ['3.0.0', 'broken'], ['4.0.0', 'uptest-fails']] as const) await pushLabelledHello(info, APP_REPO, SERVICE, v, variant);
  await pushKamalProxy(info, images.proxy);

  let kamal: KamalRunner | undefined;
  try {
    if (ARGS.interleave) {
      const g = await setUpGangway(bench, GANGWAY_HOSTS, out);
      kamal = await startKamal(info, images, { service: SERVICE, repository: APP_REPO, webHosts: KAMAL_HOSTS, deployTimeoutS: DEPLOY_TIMEOUT_S });
      const k = await setUpKamal(bench, kamal, KAMAL_HOSTS, out);
      out.measured.push(await atRest(g), await atRest(k));
      for (const [i, step] of g.steps.entries()) {
        out.measured.push(await measure(bench, g, step));
        out.measured.push(await measure(bench, k, k.steps[i]!));
      }
      return;
    }
    await runAll(bench, await setUpGangway(bench, GANGWAY_HOSTS, out), out);
    say('hosts cleaned of gangway (its proxy and app containers by its label, its state directory)');
    await resetHosts(info);
    await assertPort80Free(info);
    kamal = await startKamal(info, images, { service: SERVICE, repository: APP_REPO, webHosts: KAMAL_HOSTS, deployTimeoutS: DEPLOY_TIMEOUT_S });
    await runAll(bench, await setUpKamal(bench, kamal, KAMAL_HOSTS, out), out);
  } finally {
    if (kamal) {
      say('hosts cleaned of Kamal (kamal-proxy, containers labelled service=hello, network kamal, ~/.kamal)');
      await kamal.close().catch((err: unknown) => say(`Kamal clean-up failed: ${(err as Error).message}`));
    }
  }
}

function toolPhase(m: Measured): ToolPhase {
  const c = mergeCounts(m.result.load);
  return { wallMs: m.result.opMs, failed: failedOf(c), wrong: m.probe.wrong, p99Ms: percentile(c.latenciesMs, 99) };
}

function verdicts(measured: Measured[]): Verdict[] {
  return Object.values(PHASES).flatMap((phase) => {
    const g = measured.find((m) => m.tool === 'gangway' && m.step === phase);
    const k = measured.find((m) => m.tool === 'Kamal' && m.step === phase);
    return g && k ? [verdict(phase, toolPhase(g), toolPhase(k))] : [];
  });
}

function probeTable(measured: Measured[]): string {
  return [
    '| phase | GET /version asked | right | wrong (2xx, not a version) | no 2xx | first wrong answer, s into the phase |',
    '|---|---|---|---|---|---|',
    ...measured.map((m) => `| ${m.result.phase} | ${m.probe.requests} | ${m.probe.right} | ${m.probe.wrong} | ${m.probe.failed} | ${m.probe.firstWrongS === undefined ? '-' : (m.probe.firstWrongS - LEAD_MS / 1000).toFixed(1)} |`),
  ].join('\n');
}

const ORDER = ARGS.interleave
  ? `Each tool on its own two hosts of the same sandbox (same host image): gangway on ${GANGWAY_HOSTS.join(' and ')}, Kamal on ${KAMAL_HOSTS.join(' and ')}; both set up first, then the phases alternate (gangway's, then Kamal's same phase), so both meet the same moment of this shared machine; the load goes only to the hosts of the tool whose command runs.`
  : `Both on ${GANGWAY_HOSTS.join(' and ')}: gangway ran first; then the hosts were cleaned of it (port 80 checked free) and Kamal ran on the same hosts.`;

function render(out: Output, startedAt: Date): string {
  const rows = verdicts(out.measured);
  const met = rows.length === Object.keys(PHASES).length && rows.every((r) => r.ahead);
  const phases = out.measured.map((m) => m.result);
  const parts = [
    `Measured ${startedAt.toISOString()}; ${machineFacts('2.6', loadAvg()).replace('3 Docker-in-Docker', `${SANDBOX_HOSTS} Docker-in-Docker`)} Kamal 2.12.0 (Debian 13's ruby 3.3 and ruby-* gems, run from source in one long-lived container on the sandbox network) with kamal-proxy v0.9.2 (built with Debian 13's Go 1.24): bench/kamal/build.sh${out.kamalImages ? ` (${out.kamalImages})` : ''}.${ARGS.busy ? ' Busy: a burner (test/integration/helpers/busy.ts: CPU bursts and process starts) in each web host from the start of every command to its end.' : ''}`,
    `Load: ${LOAD.ratePerHost} req/s per web host sent to its :80 on 127.0.0.1 (the tool's proxy: HAProxy for gangway, kamal-proxy for Kamal), open loop; GET / and POST /cgi-bin/echo (${LOAD.postBodyBytes}-byte body, answer checked): ${describeMix(LOAD.kinds)}, ${LOAD.keepAliveSocketsPerHost} keep-alive connections per host; a request fails on a non-2xx, a socket error, a wrong body or no answer within ${LOAD.requestTimeoutMs / 1000} s. Beside it, GET /version ${PROBE_RATE} times a second per web host on a fresh connection: the answer users get wrong from a release that fails its uptests. Each phase: load for ${LEAD_MS / 1000} s, the command, ${TAIL_MS / 1000} s more. Same images for both tools (examples/hello, labelled service=hello because Kamal requires it), web role only on two hosts, deploy timeout ${DEPLOY_TIMEOUT_S} s for both (Kamal's default); other settings each tool's default (gangway: the bench's config, drain 5 s). ${ORDER} Wall time: the whole command, process start to exit (gangway's node CLI; Kamal's \`docker exec … kamal\`, ruby start included).`,
    '',
    `Goal: gangway ahead of Kamal on every phase (less wall time, and no more failed requests plus wrong /version answers). **${met ? 'Met' : 'Not met'}** in this run: gangway ahead on ${rows.filter((r) => r.ahead).length} of ${Object.keys(PHASES).length} phases.`,
    '',
    verdictTable(rows),
    '',
    phaseTable(phases),
    '',
    ...failureNotes(phases, LEAD_MS),
    '',
    probeTable(out.measured),
  ];
  const deploy = out.measured.find((m) => m.tool === 'gangway' && m.step === PHASES.deploy);
  if (deploy?.events?.length) parts.push('', `Where gangway's ${PHASES.deploy} spent its time (its \`--json\` step events; seconds from its first event):`, '', stepTable(stepSpans(deploy.events)));
  const setup = (Object.entries(out.setup) as Array<[Tool, number]>).map(([t, ms]) => `${t} ${(ms / 1000).toFixed(1)} s`).join(', ');
  if (out.sandboxMs !== undefined) parts.push('', `Sandbox up ${(out.sandboxMs / 1000).toFixed(1)} s; setup of 1.0.0, not under load: ${setup || '-'}.`);
  if (out.crashed) parts.push('', `The bench stopped early: ${out.crashed}`);
  return parts.join('\n');
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const out: Output = { measured: [], setup: {} };
  await sandboxBenchMain({
    key: KEY,
    heading: `gangway and Kamal 2 side by side: deploy, failed deploy, a release that fails its uptests, rollback (${LOAD.ratePerHost} req/s per web host${ARGS.busy ? ', busy hosts' : ''}${ARGS.interleave ? ', each tool on its own hosts, phases interleaved' : ''})`,
    command: COMMAND,
    proxyLine: '2.6',
    say,
    shape: { id: SANDBOX_ID, hosts: SANDBOX_HOSTS },
    phases: recordingPhases(out, (bench) => runPhases(bench, out)),
    render: () => render(out, startedAt),
  });
}

main().catch((err: unknown) => {
  say(`crashed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
