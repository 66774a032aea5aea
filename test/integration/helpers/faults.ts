// Helpers of the fault-injection tests: the real CLI as a child process whose --json events can be
// awaited (to kill it at an exact step), a bounded open-loop load through the web hosts' proxies,
// and views of the hosts taken from OUTSIDE gangway (docker exec into the host containers, HTTP
// through the published ports) to check what gangway says against what is true.
import { spawn, type ChildProcess } from 'node:child_process';
import Docker from 'dockerode';
import { failedOf, percentile, startLoad, type LoadOptions, type LoadResult, type LoadTarget } from '../../../bench/zero-downtime/load.js';
import type { RoleStatus } from '../../../src/deploy/status.js';
import type { GangwayEvent } from '../../../src/events/events.js';
import type { SandboxInfo } from '../../../src/sandbox/types.js';
import type { HelloVariant } from '../../../src/sandbox/index.js';
import type { Deployment } from '../../../src/state/deployment.js';
import { auditLogPath } from '../../../src/state/audit.js';
import { containerName, LABEL, labelsBelongTo } from '../../../src/state/labels.js';
import { shellQuote } from '../../../src/state/shell.js';
import { BIN, gangway, getThroughProxy, HELLO, labelledContainers, onHost, pushHello, resetHosts, TEST_SECRET, writeProject, type CliResult } from './deploy.js';

export const WEB_HOSTS = ['vm1', 'vm2'] as const;
export const ALL_HOSTS = ['vm1', 'vm2', 'vm3'] as const;

export interface RunningCli {
  child: ChildProcess;
  /** Every NDJSON event seen on stdout so far. */
  events: GangwayEvent[];
  /** Resolves with the first event (past or future) matching; rejects when the CLI ends first. */
  waitFor(match: (e: GangwayEvent) => boolean, what: string): Promise<GangwayEvent>;
  result: Promise<CliResult>;
}

/** Starts the built CLI with --json added; bounded in time (SIGKILL after timeoutMs). */
export function startGangway(args: string[], opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args, '--json'], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', HELLO_SECRET: TEST_SECRET, ...(opts.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: GangwayEvent[] = [];
  const waiters: Array<{ match: (e: GangwayEvent) => boolean; resolve: (e: GangwayEvent) => void }> = [];
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (!line.trim()) continue;
      let e: GangwayEvent;
      try {
        e = JSON.parse(line) as GangwayEvent;
      } catch {
        continue;
      }
      events.push(e);
      for (const w of [...waiters]) if (w.match(e)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(e); }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 150_000);
  const result = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : 128), stdout, stderr, output: stdout + stderr });
    });
  });
  return {
    child,
    events,
    result,
    waitFor(match, what) {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void result.then((r) => reject(new Error(`gangway ended (exit ${r.code}) before ${what}:\n${r.output.slice(-3000)}`)));
      });
    },
  };
}

export const isStep = (step: string, status: string, host?: string) => (e: GangwayEvent): boolean =>
  e.type === 'step' && e.step === step && e.status === status && (host === undefined || e.host === host);

/** The events as one line each, for failure messages. */
export const eventTrail = (events: GangwayEvent[]): string =>
  events.map((e) => (e.type === 'step' ? `${e.host ?? '-'} ${e.step} ${e.status}` : e.type === 'log' ? `${e.host ?? '-'} log ${e.message.slice(0, 100)}` : `${e.type}`)).join('\n');

// ---- load ------------------------------------------------------------------------------------

export interface LoadSummary {
  requests: number;
  failed: number;
  /**
   * Requests the schedule said were due but the in-flight cap held back (a stall stops sending):
   * neither sent nor failed. The busy-host test and every fault scenario (underFaultLoad) require 0.
   */
  unsent: number;
  /** Latency of the answered and failed requests, ms. */
  p99Ms: number;
  maxMs: number;
  /** "kind: count" of every failure. */
  failures: string[];
  servedVersions: Record<string, number>;
  /** The same per web host, with when its first and last failures were seen (epoch ms). */
  byHost: Record<string, HostLoadSummary>;
}

export interface HostLoadSummary {
  requests: number;
  failed: number;
  failures: string[];
  firstFailureAt?: number;
  lastFailureAt?: number;
}

/**
 * The rate this 2-core machine serves without saturating: `npx tsx bench/zero-downtime/calibrate.ts
 * 30 60 100` measured p99 80 ms at 30 req/s per web host, 266 ms at 60, and a ceiling near 100
 * (p99 over 4 s) with no deploy running, so the zero-downtime bench's 300 is out of reach here; the
 * faults need every instant covered, not stress. A request fails when it gets no 2xx within 30 s,
 * as in the busy-host test: a fresh-connection POST can take over 5 s while containers start, and a
 * user's client waits that long too.
 *
 * Open loop for real: the in-flight cap is above the rate times the timeout (which counts from the
 * send), more than can ever be in flight, so a stall never holds a due request back; it is sent and counted (answered, or failed
 * at the timeout). underFaultLoad fails the scenario if one was not sent all the same.
 */
const FAULT_RATE = 30;
const FAULT_TIMEOUT_MS = 30_000;
export const FAULT_LOAD: LoadOptions = {
  ratePerHost: FAULT_RATE,
  postBodyBytes: 256,
  requestTimeoutMs: FAULT_TIMEOUT_MS,
  // One second more than can be in flight: every request ends at its timeout, counted from its send.
  maxInFlightPerHost: FAULT_RATE * (FAULT_TIMEOUT_MS / 1000 + 1),
  keepAliveSocketsPerHost: 4,
};

/**
 * An open-loop load (bench/zero-downtime/load.ts) through the web hosts' proxies while `during`
 * runs; bounded by maxMs (stopped even when `during` hangs or throws).
 */
export async function underFaultLoad<T>(info: SandboxInfo, maxMs: number, during: () => Promise<T>, opts: LoadOptions = FAULT_LOAD, hosts: readonly string[] = WEB_HOSTS): Promise<{ result: T; load: LoadSummary }> {
  return underTargetLoad(hosts.map((name) => ({ name, port: info.hosts.find((h) => h.name === name)!.httpPort })), maxMs, during, opts);
}

/** The same on any targets (one per Host name and web host on a shared proxy); byHost is keyed by target name. */
export async function underTargetLoad<T>(targets: LoadTarget[], maxMs: number, during: () => Promise<T>, opts: LoadOptions = FAULT_LOAD): Promise<{ result: T; load: LoadSummary }> {
  const load = startLoad(targets, opts);
  let guard: NodeJS.Timeout | undefined;
  const stopped = new Promise<void>((resolve) => { guard = setTimeout(resolve, maxMs); });
  let result: T;
  try {
    result = await Promise.race([during(), stopped.then(() => { throw new Error(`the scenario did not finish within ${maxMs} ms`); })]);
  } finally {
    clearTimeout(guard);
  }
  const summary = summarise(await load.stop());
  // Every due request must have been sent, or a failure could hide among the unsent.
  if (summary.unsent > 0) throw new Error(`the load generator held back ${summary.unsent} due requests (${JSON.stringify(Object.fromEntries(Object.entries(summary.byHost).map(([h, c]) => [h, c.requests])))} sent): the scenario's load did not cover every instant`);
  return { result, load: summary };
}

const kindsOf = (m: Map<string, number>): string[] => [...m].map(([k, n]) => `${k}: ${n}`);

function summarise(counts: LoadResult): LoadSummary {
  const all = [...counts.byHost.values()];
  const unsent = [...counts.shortfallByHost.values()].reduce((a, b) => a + b, 0);
  const failures = new Map<string, number>();
  const servedVersions: Record<string, number> = {};
  for (const c of all) {
    for (const [k, n] of c.failureKinds) failures.set(k, (failures.get(k) ?? 0) + n);
    for (const [v, n] of c.servedVersions) servedVersions[v] = (servedVersions[v] ?? 0) + n;
  }
  const byHost = Object.fromEntries([...counts.byHost].map(([host, c]) => [host, {
    requests: c.requests,
    failed: failedOf(c),
    failures: kindsOf(c.failureKinds),
    ...(c.firstFailureMs !== undefined ? { firstFailureAt: counts.startedAt + c.firstFailureMs } : {}),
    ...(c.lastFailureMs !== undefined ? { lastFailureAt: counts.startedAt + c.lastFailureMs } : {}),
  }]));
  return {
    requests: all.reduce((n, c) => n + c.requests, 0),
    failed: all.reduce((n, c) => n + failedOf(c), 0),
    unsent,
    p99Ms: Math.round(percentile(all.flatMap((c) => c.latenciesMs), 99)),
    maxMs: Math.round(Math.max(0, ...all.flatMap((c) => c.latenciesMs))),
    failures: kindsOf(failures),
    servedVersions,
    byHost,
  };
}

/** Until the host's proxy serves `version` (any version: undefined) (ms since sinceMs), or undefined after maxMs. */
export async function waitServing(info: SandboxInfo, host: string, version: string | undefined, sinceMs: number, maxMs: number): Promise<number | undefined> {
  while (Date.now() - sinceMs < maxMs) {
    const got = await getThroughProxy(info, host);
    if (version === undefined ? got.status === 200 : got.body === `hello from ${version}`) return Date.now() - sinceMs;
    await new Promise((r) => setTimeout(r, 200));
  }
  return undefined;
}

/** Reset or refused while the restarted proxy was down: what a restart of it costs. */
export const RESTART_FAILURE = /^(ECONNRESET|ECONNREFUSED|EPIPE) /;

/**
 * An engine restart stops the app too: besides resets, the proxy (back first, or still up) answers
 * 503 while no app server is up and 502 for a request the dying app cut.
 */
export const ENGINE_RESTART_FAILURE = /^(ECONNRESET|ECONNREFUSED|EPIPE|502|503) /;

/**
 * What a restart of one host's proxy or engine may cost, and nothing more: every other web host
 * lost nothing; the host's failures are all of the `allowed` kinds (connections reset or refused
 * while the process was down) and fell inside the fault's window, from the fault to `until`
 * (serving again) plus `slackMs`. Returns the problems, [] when there are none.
 */
export function failuresBeyondRestart(load: LoadSummary, host: string, window: { from: number; until: number; slackMs?: number }, allowed: RegExp): string[] {
  const problems: string[] = [];
  for (const [name, h] of Object.entries(load.byHost)) {
    if (name !== host && h.failed > 0) problems.push(`${name} (not restarted) lost ${h.failed}: ${h.failures.join('; ')}`);
  }
  const h = load.byHost[host];
  if (!h || h.failed === 0) return problems;
  for (const kind of h.failures) if (!allowed.test(kind)) problems.push(`${host}: a failure not explained by the restart: ${kind}`);
  const end = window.until + (window.slackMs ?? 2_000);
  if (h.firstFailureAt! < window.from) problems.push(`${host}: a failure ${window.from - h.firstFailureAt!} ms before the fault`);
  if (h.lastFailureAt! > end) problems.push(`${host}: a failure ${h.lastFailureAt! - window.until} ms after it served again`);
  return problems;
}

// ---- looking at the hosts from outside -------------------------------------------------------

export interface HostTruth {
  host: string;
  /** Running app containers by role, e.g. { web: ['hello-web-2.0.0'] }. */
  runningByRole: Record<string, string[]>;
  /** Running containers gangway made that are neither app nor proxy (uptests, exec...). */
  otherRunning: string[];
  /** Versions answering through the host's proxy over a few requests (web hosts only). */
  served?: string[];
}

/** Another deployment's app containers (another destination) count as "other running". */
export async function hostTruth(info: SandboxInfo, host: string, deployment: Deployment = HELLO): Promise<HostTruth> {
  const runningByRole: Record<string, string[]> = {};
  const otherRunning: string[] = [];
  for (const { name, labels } of await labelledContainers(info, host, `--filter label=${LABEL.managed}`)) {
    const managed = labels[LABEL.managed]!;
    if (labelsBelongTo(labels, deployment)) (runningByRole[labels[LABEL.role]!] ??= []).push(name);
    else if (managed !== 'proxy') otherRunning.push(`${name} (${managed})`);
  }
  for (const list of Object.values(runningByRole)) list.sort();
  const truth: HostTruth = { host, runningByRole, otherRunning };
  if ((WEB_HOSTS as readonly string[]).includes(host)) {
    const versions = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await getThroughProxy(info, host);
      versions.add(r.status === 200 ? r.body.replace(/^hello from /, '') : `HTTP ${r.status}`);
    }
    truth.served = [...versions].sort();
  }
  return truth;
}

export const allTruth = (info: SandboxInfo): Promise<HostTruth[]> => Promise.all(ALL_HOSTS.map((h) => hostTruth(info, h)));

/**
 * The hosts' state once it stops moving: a killed CLI's last Engine API request (a container
 * start, a stop with its grace period) still completes on the host after the client is gone.
 * Two equal snapshots 1 s apart, within maxMs.
 */
export async function settledTruth(info: SandboxInfo, maxMs = 20_000): Promise<HostTruth[]> {
  const deadline = Date.now() + maxMs;
  let last = await allTruth(info);
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const next = await allTruth(info);
    if (JSON.stringify(next) === JSON.stringify(last) || Date.now() > deadline) return next;
    last = next;
  }
}

/** Every host on exactly one version, the same one everywhere, nothing else of gangway's running. */
export function convergedOn(truth: HostTruth[], version: string): string[] {
  const problems: string[] = [];
  for (const t of truth) {
    const roles = t.host === 'vm3' ? ['workers'] : ['web'];
    for (const role of roles) {
      const want = [containerName(HELLO, role, version)];
      if (JSON.stringify(t.runningByRole[role] ?? []) !== JSON.stringify(want)) problems.push(`${t.host} ${role} runs ${JSON.stringify(t.runningByRole[role] ?? [])}, expected ${JSON.stringify(want)}`);
    }
    if (t.otherRunning.length > 0) problems.push(`${t.host} also runs ${t.otherRunning.join(', ')}`);
    if (t.served && JSON.stringify(t.served) !== JSON.stringify([version])) problems.push(`${t.host} serves ${JSON.stringify(t.served)}, expected ${version}`);
  }
  return problems;
}

// ---- what gangway says ----------------------------------------------------------------------


export interface StatusView {
  code: number;
  rows: RoleStatus[];
  lock: { held: boolean; pid?: number; holder?: string; version?: string; holderRunning?: boolean };
  output: string;
}

export function parseEvents(stdout: string): GangwayEvent[] {
  return stdout.split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l) as GangwayEvent);
}

export function statusFrom(r: CliResult): StatusView {
  const events = parseEvents(r.stdout);
  const rows = events.filter((e) => e.type === 'result' && e.kind === 'status').map((e) => (e as unknown as { data: RoleStatus }).data);
  rows.sort((a, b) => `${a.host}${a.role}`.localeCompare(`${b.host}${b.role}`));
  const lock = events.find((e) => e.type === 'result' && e.kind === 'lock') as { data: StatusView['lock'] } | undefined;
  return { code: r.code, rows, lock: lock?.data ?? { held: false }, output: r.output };
}

/** `gangway status` must say what the hosts really run: compared row by row with the truth. */
export function statusMismatches(status: StatusView, truth: HostTruth[]): string[] {
  const problems: string[] = [];
  for (const row of status.rows) {
    const t = truth.find((x) => x.host === row.host)!;
    // The names are containerName's: the version is what follows the role's prefix.
    const prefix = containerName(HELLO, row.role, '');
    const running = (t.runningByRole[row.role] ?? []).map((n) => n.slice(prefix.length)).sort();
    if (JSON.stringify([...row.runningVersions].sort()) !== JSON.stringify(running)) problems.push(`${row.host} ${row.role}: status says running ${JSON.stringify(row.runningVersions)}, the host runs ${JSON.stringify(running)}`);
    if (t.served) {
      if (JSON.stringify(t.served) !== JSON.stringify([row.liveVersion])) problems.push(`${row.host} ${row.role}: status says live ${row.liveVersion}, the proxy serves ${JSON.stringify(t.served)}`);
    } else if (running.length === 1 && row.liveVersion !== running[0]) {
      problems.push(`${row.host} ${row.role}: status says live ${row.liveVersion}, the only running version is ${running[0]}`);
    }
  }
  return problems;
}

// ---- injecting faults into a host ------------------------------------------------------------

const docker = new Docker();
const containerOf = (info: SandboxInfo, host: string) => docker.getContainer(info.hosts.find((h) => h.name === host)!.containerId);

/** Freezes every process of a host (sshd, dockerd, containers): to the network it is a dead machine. */
export const pauseHost = (info: SandboxInfo, host: string) => containerOf(info, host).pause();
export const unpauseHost = (info: SandboxInfo, host: string) => containerOf(info, host).unpause();

/** The audit log of a host (one JSON line per command that changed something). */
export const auditLines = async (info: SandboxInfo, host: string): Promise<string[]> =>
  (await onHost(info, host, `cat ${shellQuote(auditLogPath(HELLO))} 2>/dev/null`)).split('\n').filter(Boolean);

/** Every container of a host with its state, for "nothing changed" comparisons. */
export const containerList = async (info: SandboxInfo, host: string): Promise<string[]> =>
  (await onHost(info, host, "docker ps -a --format '{{.Names}} {{.State}} {{.ID}}'")).split('\n').filter(Boolean).sort();

/** Restarts a container inside a host (the proxy: `gangway-proxy`) through the host's own engine. */
export const restartOnHost = (info: SandboxInfo, host: string, container: string): Promise<string> => onHost(info, host, `docker restart -t 5 ${container} >/dev/null && echo restarted`);

/**
 * Restarts a whole sandbox host (its container), as after a reboot: a new engine with everything
 * on it. (An engine restart on a host that stays up is `pkill dockerd` inside it: the entrypoint
 * runs dockerd under a restart loop.) Waits until the inner engine answers again.
 */
export async function restartHost(info: SandboxInfo, host: string): Promise<void> {
  await containerOf(info, host).restart({ t: 2 });
  for (let i = 0; i < 150; i++) {
    if ((await onHost(info, host, 'docker info >/dev/null 2>&1 && echo up').catch(() => '')).includes('up')) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the engine on ${host} did not come back`);
}

/** SSH settings for the suites that freeze or restart hosts: failures are noticed in seconds. */
export const quickSsh = (info: SandboxInfo) => ({ user: 'root', identity: info.keyPath, known_hosts: info.knownHostsPath, connect_timeout: '3s', keepalive_interval: '2s', config: false });

export interface FaultProjectOptions {
  repo: string;
  /** Versions to push, in order; a bare string is the `ok` variant. The first one is set up. */
  versions: Array<string | readonly [string, HelloVariant]>;
  /** Top-level config keys over writeProject's defaults. */
  extra?: Record<string, unknown>;
}

/**
 * Where every fault suite starts: hosts reset, the versions pushed, a project written, and the
 * first version set up on every host. Returns the project folder.
 */
export async function faultProject(info: SandboxInfo, opts: FaultProjectOptions): Promise<string> {
  await resetHosts(info);
  const versions = opts.versions.map((v) => (typeof v === 'string' ? ([v, 'ok'] as const) : v));
  for (const [version, variant] of versions) await pushHello(info, opts.repo, version, variant);
  const project = writeProject(info, { repo: opts.repo, ...(opts.extra ? { extra: opts.extra } : {}) });
  const setup = await gangway(['setup', '--version', versions[0]![0]], { cwd: project, timeoutMs: 150_000 });
  if (setup.code !== 0) throw new Error(`setup of ${versions[0]![0]} failed (exit ${setup.code}):\n${setup.output}`);
  return project;
}
