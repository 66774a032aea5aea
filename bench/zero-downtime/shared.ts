// Benchmark (not a test): the shared proxy of issue 14 under load, on one sandbox.
// Part 1, two services: alpha answers Host alpha.test on both web hosts; beta (Host beta.test)
// takes its slot with its first deploy while alpha is under load, then beta and alpha each deploy
// a new version under load on both names. Failed requests are counted per name; a GET / answered
// by the other service's version counts as a bad body ("wrong service").
// Part 2, the migration: each web host's proxy is put on the single-service layout of earlier
// gangway versions (fixtures/legacy-haproxy.cfg, rendered by the last single-service renderer:
// fixtures/render-legacy.sh) and restarted on it, serving hello 1.0.0; then the current
// `gangway deploy` moves it to the shared layout (ensureProxy: one SIGUSR2 reload) under load,
// and a deploy on the shared layout under the same load is the baseline of the same run.
// --rate N sets the requests per second per web host and per name (default 20, the rate of the
// run.ts section recorded with --rate 20; 2 names make 40 per web host, below the ~100 per host
// calibrate.ts measured); --proxy 3.0 runs HAProxy 3.0.
// Run: npm run build && npx tsx bench/zero-downtime/shared.ts [--rate N] [--proxy 3.0] [--record]
// Exits non-zero only when the bench itself crashes, never on a missed target.
import { readFileSync } from 'node:fs';
import type { GangwayEvent } from '../../src/events/events.js';
import { UNKNOWN_MAP_REPLY } from '../../src/proxy/runtime-maps.js';
import { liveServers, parseServersState, parseStat } from '../../src/proxy/runtime-parse.js';
import type { SandboxInfo } from '../../src/sandbox/index.js';
import { onHost, resetHosts } from '../../test/integration/helpers/deploy.js';
import { waitServed } from './baselines.js';
import { gangway, type CliRun } from './cli.js';
import { DEFAULT_LOAD, describeMix, underLoad, type LoadOptions, type LoadResult, type LoadTarget } from './load.js';
import { cliPhase, failureSummary, machineFacts, recordingPhases, sandboxBenchMain } from './phase.js';
import { failureNotes, phaseTable, type PhaseResult } from './report.js';
import { benchProxyConfig, benchProxyLine, pushHelloVersion, writeBenchProject, type BenchSandbox } from './sandbox.js';

const LEAD_MS = 1000;
const TAIL_MS = 2000;
const AT_REST_MS = 8000;
const CLI_TIMEOUT_MS = 180_000;
const WEB_HOSTS = ['vm1', 'vm2'];
const DEFAULT_RATE = 20;
const rateArg = process.argv.indexOf('--rate');
const RATE = rateArg > 0 ? Number(process.argv[rateArg + 1]) : DEFAULT_RATE;
const LOAD: LoadOptions = { ...DEFAULT_LOAD, ratePerHost: RATE };
const PROXY_LINE = benchProxyLine();
const COMMAND = `npm run build && npx tsx bench/zero-downtime/shared.ts${RATE === DEFAULT_RATE ? '' : ` --rate ${RATE}`}${PROXY_LINE === '2.6' ? '' : ` --proxy ${PROXY_LINE}`}`;
const KEY = `bench/zero-downtime/shared${RATE === DEFAULT_RATE ? '' : `/rate-${RATE}`}${PROXY_LINE === '2.6' ? '' : `/haproxy-${PROXY_LINE}`}`;
const PROXY_DIR = '/var/lib/gangway/proxy';
const LEGACY_CFG = new URL('./fixtures/legacy-haproxy.cfg', import.meta.url);
const MIGRATED_LOG = 'moved from the single-service layout';

interface Service {
  service: string;
  repo: string;
  name: string;
  versions: [string, string];
}
const ALPHA: Service = { service: 'alpha', repo: 'bench/alpha', name: 'alpha.test', versions: ['1.0.0', '1.1.0'] };
const BETA: Service = { service: 'beta', repo: 'bench/beta', name: 'beta.test', versions: ['2.0.0', '2.1.0'] };

const say = (line: string) => process.stderr.write(`[bench shared] ${line}\n`);
const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const portOf = (info: SandboxInfo, host: string) => info.hosts.find((h) => h.name === host)!.httpPort;

interface Output {
  twoService: PhaseResult[];
  migration: PhaseResult[];
  /** Per web host: what the runtime answered to `show map` before and after the move. */
  migrationChecks: string[];
  /** Per phase: the servers each web host's proxy logged DOWN or UP during it. */
  proxyLog: Map<string, string>;
  sandboxMs?: number;
  crashed?: string;
}

function phaseLoad<T>(targets: LoadTarget[], during: () => Promise<T>): Promise<{ result: T; load: LoadResult }> {
  return underLoad(targets, LEAD_MS, TAIL_MS, during, LOAD);
}

/** One load target per web host for a service's name; a GET / must be answered by one of its versions. */
function targetsOf(info: SandboxInfo, s: Service): LoadTarget[] {
  return WEB_HOSTS.map((host) => ({ name: `${host} ${s.name}`, port: portOf(info, host), hostHeader: s.name, versions: s.versions }));
}

/** Pure: a phase's load cut by name (target names end in " <Host name>"), one report row each. */
export function byName(p: PhaseResult, names: string[]): PhaseResult[] {
  return names.flatMap((name) => {
    const keep = <V>(m: Map<string, V>) => new Map([...m].filter(([k]) => k.endsWith(` ${name}`)));
    const byHost = keep(p.load.byHost);
    if (byHost.size === 0) return [];
    return [{ ...p, phase: `${p.phase} — Host ${name}`, load: { ...p.load, byHost, shortfallByHost: keep(p.load.shortfallByHost) } }];
  });
}

async function servedBy(info: SandboxInfo, wanted: Array<[Service | undefined, string]>): Promise<string> {
  try {
    await Promise.all(wanted.flatMap(([s, v]) => WEB_HOSTS.map((h) => waitServed(portOf(info, h), v, 3000, s?.name))));
    return `${wanted.map(([s, v]) => `${s ? s.name : 'the catch-all'} serves ${v}`).join(', ')} on both web hosts afterwards`;
  } catch (err) {
    return `NOT as expected afterwards: ${(err as Error).message}`;
  }
}

/** Pure: "Server <backend>/<server> is DOWN|UP" lines of HAProxy's log, counted per server and state (a reason once each). */
export function serverTransitions(log: string): string {
  const counts = new Map<string, number>();
  for (const m of log.matchAll(/Server (\S+) is (DOWN|UP)\b(?:, reason: ([^,]+))?/g)) {
    const key = `${m[1]} ${m[2]}${m[3] ? ` (${m[3]})` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts.size ? [...counts].map(([k, n]) => `${k} ×${n}`).join(', ') : 'none';
}

const askProxy = (line: string) => `echo '${line}' | socat - UNIX-CONNECT:${PROXY_DIR}/admin.sock 2>&1`;

/** The ready servers of every slot and their health as gangway reads it (held: no active check), from outside gangway. */
async function readyServers(info: SandboxInfo, host: string): Promise<string> {
  const state = parseServersState(await onHost(info, host, askProxy('show servers state')));
  const stats = parseStat(await onHost(info, host, askProxy('show stat')));
  const ready = [...new Set(state.map((r) => r.backend))].flatMap((b) => liveServers(b, state, stats).filter((s) => s.state === 'ready').map((s) => `${s.name} ${s.health}`));
  return ready.join(', ') || 'none';
}

/**
 * Runs a phase and keeps what each web host's proxy logged about its servers meanwhile (its
 * stdout log, not the stderr copies), and the checks of the serving servers at its end.
 */
async function watchingProxies<T extends PhaseResult | { result: PhaseResult }>(info: SandboxInfo, out: Output, run: () => Promise<T>): Promise<T> {
  const since = Math.floor(Date.now() / 1000) - 1;
  const result = await run();
  const logs = await Promise.all(WEB_HOSTS.map(async (h) => `${h}: ${serverTransitions(await onHost(info, h, `docker logs --since ${since} gangway-proxy 2>/dev/null`))}`));
  const ready = await Promise.all(WEB_HOSTS.map(async (h) => `${h}: ${await readyServers(info, h)}`));
  out.proxyLog.set('result' in result ? result.result.phase : result.phase, `${logs.join('; ')}. Ready servers at the end (held = active check stopped by gangway): ${ready.join('; ')}`);
  return result;
}

function mustSucceed(run: CliRun, what: string): void {
  if (run.code !== 0) throw new Error(`${what} failed (exit ${run.code}): ${failureSummary(run)}`);
}

async function twoServices(bench: BenchSandbox, out: Output): Promise<void> {
  const { info } = bench;
  say('part 1: pushing alpha 1.0.0, 1.1.0 and beta 2.0.0, 2.1.0');
  for (const s of [ALPHA, BETA]) for (const v of s.versions) await pushHelloVersion(info, v, 'ok', s.repo);
  const project = (s: Service) => writeBenchProject(bench, { MODE: 'bench' }, { servers: { web: { hosts: WEB_HOSTS } }, proxy: benchProxyConfig(bench, { hosts: [s.name] }) }, { service: s.service, repo: s.repo });
  const alpha = project(ALPHA);
  const beta = project(BETA);
  say(`gangway setup alpha --version ${ALPHA.versions[0]} (no load: nothing to serve yet)`);
  mustSucceed(await gangway(['setup', '--version', ALPHA.versions[0]], alpha, CLI_TIMEOUT_MS), 'gangway setup of alpha');
  await Promise.all(WEB_HOSTS.map((h) => waitServed(portOf(info, h), ALPHA.versions[0], 10_000, ALPHA.name)));
  const a = targetsOf(info, ALPHA);
  const both = [...a, ...targetsOf(info, BETA)];
  const common = { timeoutMs: CLI_TIMEOUT_MS, say, loadAvg };

  out.twoService.push(await watchingProxies(info, out, async () => (await cliPhase({ ...common, phase: `1. beta's first deploy (${BETA.name}) beside alpha`, project: beta, args: ['deploy', '--version', BETA.versions[0]], expectedCode: 0, underLoad: (d) => phaseLoad(a, d), after: () => servedBy(info, [[ALPHA, ALPHA.versions[0]], [BETA, BETA.versions[0]]]) })).result));

  say(`2. the same load on both names at rest for ${AT_REST_MS / 1000} s`);
  out.twoService.push(await watchingProxies(info, out, async () => {
    const rest = await phaseLoad(both, () => sleep(AT_REST_MS));
    return { phase: '2. at rest, both names (no operation)', outcome: '-', gangway: false, opMs: AT_REST_MS, load: rest.load, loadAvg: loadAvg() };
  }));

  out.twoService.push(await watchingProxies(info, out, async () => (await cliPhase({ ...common, phase: `3. beta deploy ${BETA.versions[0]} → ${BETA.versions[1]}`, project: beta, args: ['deploy', '--version', BETA.versions[1]], expectedCode: 0, underLoad: (d) => phaseLoad(both, d), after: () => servedBy(info, [[ALPHA, ALPHA.versions[0]], [BETA, BETA.versions[1]]]) })).result));
  out.twoService.push(await watchingProxies(info, out, async () => (await cliPhase({ ...common, phase: `4. alpha deploy ${ALPHA.versions[0]} → ${ALPHA.versions[1]}`, project: alpha, args: ['deploy', '--version', ALPHA.versions[1]], expectedCode: 0, underLoad: (d) => phaseLoad(both, d), after: () => servedBy(info, [[ALPHA, ALPHA.versions[1]], [BETA, BETA.versions[1]]]) })).result));
}

/** What the running proxy answers to `show map` of slots.map (from outside gangway: socat on the host). */
async function showSlotsMap(info: SandboxInfo, host: string): Promise<string> {
  const reply = await onHost(info, host, askProxy('show map /usr/local/etc/haproxy/slots.map'));
  return reply.trim().split('\n')[0] ?? '';
}

const layoutOf = (reply: string) => (reply.startsWith(UNKNOWN_MAP_REPLY) ? 'single-service (no maps)' : 'shared (slots.map answers)');

/** The host's proxy back on the single-service file of earlier versions: the file, no maps, a restart. */
async function toLegacy(info: SandboxInfo, host: string, cfg: string): Promise<void> {
  await onHost(info, host, `cat > ${PROXY_DIR}/haproxy.cfg <<'GANGWAY_LEGACY_EOF'\n${cfg}GANGWAY_LEGACY_EOF\nrm -f ${PROXY_DIR}/slots.map ${PROXY_DIR}/routes.map ${PROXY_DIR}/default.map && docker restart gangway-proxy >/dev/null`);
}

const migratedHosts = (events: GangwayEvent[]) => events.filter((e) => e.type === 'log' && e.message.includes(MIGRATED_LOG)).map((e) => e.host ?? '-').sort();

async function migration(bench: BenchSandbox, out: Output): Promise<void> {
  const { info } = bench;
  say('part 2: hosts reset; pushing hello 1.0.0, 2.0.0, 3.0.0');
  await resetHosts(info);
  for (const v of ['1.0.0', '2.0.0', '3.0.0']) await pushHelloVersion(info, v, 'ok');
  const project = writeBenchProject(bench);
  mustSucceed(await gangway(['setup', '--version', '1.0.0'], project, CLI_TIMEOUT_MS), 'gangway setup of hello');
  const cfg = readFileSync(LEGACY_CFG, 'utf8');
  say('web hosts\' proxies put on the single-service layout (fixtures/legacy-haproxy.cfg) and restarted');
  await Promise.all(WEB_HOSTS.map((h) => toLegacy(info, h, cfg)));
  const targets: LoadTarget[] = WEB_HOSTS.map((host) => ({ name: host, port: portOf(info, host) }));
  await Promise.all(targets.map((t) => waitServed(t.port, '1.0.0', 20_000)));
  const before = await Promise.all(WEB_HOSTS.map(async (h) => [h, await showSlotsMap(info, h)] as const));
  for (const [h, reply] of before) {
    if (!reply.startsWith(UNKNOWN_MAP_REPLY)) throw new Error(`${h}'s proxy is not on the single-service layout after the restart (show map: ${reply})`);
  }

  say(`0. the same load at rest on the single-service layout for ${AT_REST_MS / 1000} s`);
  out.migration.push(await watchingProxies(info, out, async () => {
    const rest = await phaseLoad(targets, () => sleep(AT_REST_MS));
    return { phase: '0. at rest, single-service layout (no operation)', outcome: '-', gangway: false, opMs: AT_REST_MS, load: rest.load, loadAvg: loadAvg() };
  }));

  const common = { timeoutMs: CLI_TIMEOUT_MS, say, loadAvg, project, expectedCode: 0, underLoad: <T>(d: () => Promise<T>) => phaseLoad(targets, d) };
  const moved = await watchingProxies(info, out, () => cliPhase({ ...common, phase: '1. deploy 1.0.0 → 2.0.0, moving the proxy to the shared layout', args: ['deploy', '--version', '2.0.0'], after: () => servedBy(info, [[undefined, '2.0.0']]) }));
  const after = await Promise.all(WEB_HOSTS.map(async (h) => [h, await showSlotsMap(info, h)] as const));
  const logged = migratedHosts(moved.run.events);
  moved.result.note = `${moved.result.note ?? ''}; gangway logged the move on ${logged.join(', ') || 'no host'}`;
  out.migration.push(moved.result);
  out.migrationChecks = WEB_HOSTS.map((h) => `${h}: ${layoutOf(before.find(([x]) => x === h)![1])} before, ${layoutOf(after.find(([x]) => x === h)![1])} after`);

  out.migration.push(await watchingProxies(info, out, async () => (await cliPhase({ ...common, phase: '2. baseline: deploy 2.0.0 → 3.0.0 on the shared layout (no move)', args: ['deploy', '--version', '3.0.0'], after: () => servedBy(info, [[undefined, '3.0.0']]) })).result));
}

function failedByName(phases: PhaseResult[], name: string): number {
  return phases.filter((p) => p.gangway).reduce((sum, p) => sum + [...p.load.byHost].filter(([k]) => k.endsWith(` ${name}`)).reduce((n, [, c]) => n + c.non2xx + c.socketErrors + c.badBody, 0), 0);
}

const proxyLogNotes = (phases: PhaseResult[], log: Map<string, string>) =>
  phases.filter((p) => log.has(p.phase)).map((p) => `- ${p.phase}: servers the web hosts' proxies logged DOWN or UP (health checks): ${log.get(p.phase)}`);

function render(out: Output, startedAt: Date): string {
  const names = [ALPHA.name, BETA.name];
  const rows = out.twoService.flatMap((p) => byName(p, names));
  const parts = [
    `Measured ${startedAt.toISOString()}; ${machineFacts(PROXY_LINE, loadAvg())}`,
    `Load: ${LOAD.ratePerHost} req/s per web host (vm1, vm2) and per Host name loaded, sent to its :80 on 127.0.0.1 (the proxy), open loop; GET / and POST /cgi-bin/echo (${LOAD.postBodyBytes}-byte body, answer checked): ${describeMix(LOAD.kinds)}, ${LOAD.keepAliveSocketsPerHost} keep-alive connections per host and name; a request fails on a non-2xx, a socket error, a wrong body or no answer within ${LOAD.requestTimeoutMs / 1000} s. Each phase: load for ${LEAD_MS / 1000} s, the operation, ${TAIL_MS / 1000} s more.`,
    '',
    '### Two services on one proxy per host',
    '',
    `Web role only, on vm1 and vm2: alpha (proxy.hosts [${ALPHA.name}], versions ${ALPHA.versions.join(' and ')}) was set up first, not under load; beta (proxy.hosts [${BETA.name}], versions ${BETA.versions.join(' and ')}). One row per phase and Host name; in phase 1 only ${ALPHA.name} is loaded (${BETA.name} has no route before beta's first deploy). A GET / answered with the other service's version counts as a bad body. No other tool is run beside it: the at-rest phase is this run's reference for what the machine does at this load.`,
    '',
    phaseTable(rows),
    '',
    ...failureNotes(rows, LEAD_MS),
    ...proxyLogNotes(out.twoService, out.proxyLog),
    '',
    `Failed requests in the phases where gangway ran, per name: ${names.map((n) => `${n} ${failedByName(out.twoService, n)}`).join(', ')} (target 0).`,
    '',
    '### Moving a host from the single-service layout to the shared one',
    '',
    'hello (web on vm1 and vm2, workers on vm3, no proxy.hosts) was set up on the shared layout, then each web host\'s proxy got the single-service file an earlier gangway wrote (bench/zero-downtime/fixtures/legacy-haproxy.cfg: `default_backend be_hello`, no maps) and was restarted on it, not under load. The proxy container is the current gangway\'s (same spec and image), so the deploy moves it with one seamless reload (SIGUSR2), not a recreate. The load has no Host header of a service (the catch-all). Phase 2 is the same deploy on the shared layout, the baseline of this run.',
    '',
    phaseTable(out.migration),
    '',
    ...failureNotes(out.migration, LEAD_MS),
    ...proxyLogNotes(out.migration, out.proxyLog),
    ...out.migrationChecks.map((c) => `- layout as the running proxy answers \`show map slots.map\`, ${c}`),
  ];
  if (out.sandboxMs !== undefined) parts.push('', `Sandbox up ${(out.sandboxMs / 1000).toFixed(1)} s.`);
  if (out.crashed) parts.push('', `The bench stopped early: ${out.crashed}`);
  return parts.join('\n');
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const out: Output = { twoService: [], migration: [], migrationChecks: [], proxyLog: new Map() };
  await sandboxBenchMain({
    key: KEY,
    heading: `Shared proxy under load: two services, and the move from the single-service layout (${LOAD.ratePerHost} req/s per web host and name, HAProxy ${PROXY_LINE})`,
    command: COMMAND,
    proxyLine: PROXY_LINE,
    say,
    phases: recordingPhases(out, async (bench) => {
      await twoServices(bench, out);
      await migration(bench, out);
    }),
    render: () => render(out, startedAt),
  });
}

main().catch((err: unknown) => {
  say(`crashed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exitCode = 1;
});
