// Benchmark (not a test): zero downtime on busy hosts. The app is examples/hello with
// HELLO_START=slow (3 s before it accepts, httpd as PID 1 ignoring SIGTERM); during every command a
// burner (CPU bursts and process starts) runs inside every sandbox host; an open-loop load
// of GET keep-alive and POST on fresh connections goes through both web proxies. Phases: the same
// load on the busy hosts with no command (the baseline of this run), deploy, a version that dies
// at start, one that fails its uptests, rollback, and a deploy SIGKILLed at five points then rerun.
// The same scenario as test/integration/busy-host.test.ts, with the same calibration (10 req/s per
// web host by default, a request failed at 30 s, the test's burner): see that test for why.
// Run: npm run build && npx tsx bench/zero-downtime/busy.ts [--record] [--rate N]
// Exits non-zero only when the bench itself crashes, never on a missed target.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Events, type GangwayEvent } from '../../src/events/events.js';
import type { HelloVariant } from '../../src/sandbox/index.js';
import { startBurners, stopBurners } from '../../test/integration/helpers/busy.js';
import { waitServed } from './baselines.js';
import { gangway, type CliRun } from './cli.js';
import { underLoad, type LoadOptions, type LoadTarget } from './load.js';
import { phaseTable, type PhaseResult } from './report.js';
import { APP_REPO, benchMain, pushHelloVersion, writeBenchProject, type BenchSandbox } from './sandbox.js';

const LEAD_MS = 1000;
const TAIL_MS = 2000;
const CLI_TIMEOUT_MS = 240_000;
const BURN_MAX_S = 240;
const WEB_HOSTS = ['vm1', 'vm2'];
const ALL_HOSTS = ['vm1', 'vm2', 'vm3'];
const KILL_AFTER_MS = [500, 1500, 3000, 5000, 8000];
const COMMAND = 'npm run build && npx tsx bench/zero-downtime/busy.ts';

const rateArg = process.argv.indexOf('--rate');
const RATE = rateArg > 0 ? Number(process.argv[rateArg + 1]) : 10;
const LOAD: LoadOptions = {
  ratePerHost: RATE,
  postBodyBytes: 256,
  requestTimeoutMs: 30_000,
  maxInFlightPerHost: 1024,
  keepAliveSocketsPerHost: 4,
  kinds: [{ method: 'GET', fresh: false }, { method: 'POST', fresh: true }],
};

const say = (line: string) => process.stderr.write(`[bench busy] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface BusyPhase extends PhaseResult {
  /** Requests the open loop could not send (in-flight cap): counted as failed in the verdict. */
  unsent: number;
  /** Sessions the drain step reported cut by the stop (drain_timeout reached). */
  drainCut: number;
}

function drainCutOf(events: GangwayEvent[]): number {
  let n = 0;
  for (const e of events) {
    if (e.type !== 'step' || e.step !== 'drain' || e.status !== 'done') continue;
    const m = /(\d+) open sessions? cut/.exec(e.message ?? '');
    if (m) n += Number(m[1]);
  }
  return n;
}

async function phase(name: string, bench: BenchSandbox, targets: LoadTarget[], op: () => Promise<{ outcome: string; events: GangwayEvent[] }>): Promise<BusyPhase> {
  say(`${name}`);
  const t0 = performance.now();
  let opMs = 0;
  const { result: ran, load: result } = await underLoad(targets, LEAD_MS, TAIL_MS, async () => {
    await startBurners(bench.info, ALL_HOSTS, `${bench.info.registry.name}/${APP_REPO}:1.0.0`, BURN_MAX_S);
    const o0 = performance.now();
    try {
      return await op();
    } finally {
      opMs = performance.now() - o0;
      await stopBurners(bench.info, ALL_HOSTS);
    }
  }, LOAD);
  const { outcome, events } = ran;
  const unsent = [...result.shortfallByHost.values()].reduce((a, b) => a + b, 0);
  say(`${name}: ${outcome} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { phase: name, outcome, gangway: true, opMs, load: result, unsent, drainCut: drainCutOf(events) };
}

const exitOf = (run: CliRun, expected: number) => `exit ${run.code}${run.code === expected ? '' : ` (expected ${expected})`}`;

async function runPhases(bench: BenchSandbox, phases: BusyPhase[]): Promise<void> {
  const kills = KILL_AFTER_MS.map((_, i) => `${i + 5}.0.0`);
  say('pushing hello 1.0.0, 2.0.0, 3.0.0 (dies at start), 4.0.0 (fails its uptests) and 5-9.0.0');
  const versions: Array<[string, HelloVariant]> = [['1.0.0', 'ok'], ['2.0.0', 'ok'], ['3.0.0', 'broken'], ['4.0.0', 'uptest-fails'], ...kills.map((k): [string, HelloVariant] => [k, 'ok'])];
  for (const [v, variant] of versions) await pushHelloVersion(bench.info, v, variant);
  const project = writeBenchProject(bench, { MODE: 'bench', HELLO_START: 'slow', HELLO_BOOT_DELAY: '3' }, { deploy_timeout: '40s', drain_timeout: '30s' });
  const setup = await gangway(['setup', '--version', '1.0.0'], project, CLI_TIMEOUT_MS);
  if (setup.code !== 0) throw new Error(`gangway setup failed (exit ${setup.code}): ${setup.stderr.slice(-2000)}`);
  const targets: LoadTarget[] = WEB_HOSTS.map((name) => ({ name, port: bench.info.hosts.find((h) => h.name === name)!.httpPort }));
  await Promise.all(targets.map((t) => waitServed(t.port, '1.0.0', 15_000)));

  const cli = (args: string[], expected: number) => async () => {
    const run = await gangway(args, project, CLI_TIMEOUT_MS);
    return { outcome: `gangway ${args.join(' ')}: ${exitOf(run, expected)}`, events: run.events };
  };
  phases.push(await phase('0. busy hosts, no command (baseline, 10 s)', bench, targets, async () => { await sleep(10_000); return { outcome: 'nothing runs', events: [] }; }));
  phases.push(await phase('1. deploy 1.0.0 → 2.0.0', bench, targets, cli(['deploy', '--version', '2.0.0'], 0)));
  phases.push(await phase('2. deploy 3.0.0 (dies at start)', bench, targets, cli(['deploy', '--version', '3.0.0'], 1)));
  phases.push(await phase('3. deploy 4.0.0 (fails its uptests)', bench, targets, cli(['deploy', '--version', '4.0.0'], 1)));
  phases.push(await phase('4. rollback', bench, targets, cli(['rollback'], 0)));
  for (const [i, afterMs] of KILL_AFTER_MS.entries()) {
    const to = kills[i]!;
    phases.push(await phase(`${5 + i}. SIGKILL after ${afterMs / 1000} s, rerun → ${to}`, bench, targets, async () => {
      const killed = gangway(['deploy', '--version', to], project, afterMs);
      const k = await killed;
      await gangway(['lock', 'release'], project, CLI_TIMEOUT_MS);
      const rerun = await gangway(['deploy', '--version', to], project, CLI_TIMEOUT_MS);
      return { outcome: `killed (exit ${k.code}), rerun ${exitOf(rerun, 0)}`, events: [...k.events, ...rerun.events] };
    }));
  }
}

function render(phases: BusyPhase[], startedAt: Date, loadAvg: string): string {
  const rows = phases.map((p) => `| ${p.phase} | ${p.unsent} | ${p.drainCut} |`);
  return [
    `Measured ${startedAt.toISOString()}; Node ${process.version}, ${cpus().length} cores; load average at the end ${loadAvg}; dockerd 20.10, 3 Docker-in-Docker sandbox hosts, Debian's HAProxy 2.6 in an image whose default command is a plain \`haproxy -f\`.`,
    `Load: ${LOAD.ratePerHost} req/s per web host (vm1, vm2), open loop, alternating GET / over ${LOAD.keepAliveSocketsPerHost} keep-alive connections and POST /cgi-bin/echo (${LOAD.postBodyBytes}-byte body) on a fresh connection each, failed when no 2xx within ${LOAD.requestTimeoutMs / 1000} s; ${LEAD_MS / 1000} s before each command, ${TAIL_MS / 1000} s after. Busy: a burner container on every host (test/integration/helpers/busy.ts: CPU bursts and process starts with short pauses) from the start of the command to its end. App: hello with HELLO_START=slow (accepts after 3 s; httpd as PID 1 ignoring SIGTERM).`,
    '',
    phaseTable(phases),
    '',
    '| phase | unsent (held back by the in-flight cap) | sessions cut by a drain timeout |',
    '|---|---|---|',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const phases: BusyPhase[] = [];
  say('sandbox "bench" up');
  await benchMain({
    key: 'bench/zero-downtime/busy',
    heading: 'Zero downtime on busy hosts',
    command: COMMAND,
    say,
    events: new Events(),
    phases: (bench) => runPhases(bench, phases),
    render: () => render(phases, startedAt, readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')),
  });
}

main().catch((err: unknown) => {
  say(`crashed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
