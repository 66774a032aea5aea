// Guaranteed cleanup. Live runs are removed on SIGINT/SIGTERM (async) and on process exit
// (synchronously, through a child process, since 'exit' handlers cannot wait). A run whose
// process died without either (SIGKILL, power loss) is found later by `sweepStale`: its
// resources carry the owner's pid, which is no longer alive.
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import Docker from 'dockerode';
import { isNotFound } from '../docker/errors.js';
import { messageOf } from '../errors.js';
import { OWNER_HOST_LABEL, PID_LABEL, RUN_LABEL, allRunsFilter, runFilter } from './labels.js';

export interface LiveRun {
  runId: string;
  /** Unix socket of the engine, for the synchronous exit-time removal; undefined for TCP engines. */
  socketPath?: string;
  teardown(): Promise<unknown>;
}

const liveRuns = new Set<LiveRun>();
let installed = false;
// Bounded: a hung engine must not keep a Ctrl-C'd test run alive forever.
const SIGNAL_CLEANUP_BUDGET_MS = 15_000;

export function registerLiveRun(run: LiveRun): () => void {
  liveRuns.add(run);
  installHandlers();
  return () => {
    liveRuns.delete(run);
    if (liveRuns.size === 0) uninstallHandlers();
  };
}

export function liveRunIds(): string[] {
  return [...liveRuns].map((r) => r.runId);
}

const onSignal = (signal: NodeJS.Signals) => {
  uninstallHandlers();
  const runs = [...liveRuns];
  liveRuns.clear();
  const budget = new Promise((resolve) => setTimeout(resolve, SIGNAL_CLEANUP_BUDGET_MS).unref());
  void Promise.race([Promise.allSettled(runs.map((r) => r.teardown())), budget]).finally(() => {
    // Whatever is left is removed synchronously by the exit path.
    removeSynchronously(runs.map((r) => r));
    // Re-raise so the process ends the way it would have without us (status 128+n).
    process.kill(process.pid, signal);
  });
};

const onExit = () => {
  removeSynchronously([...liveRuns]);
  liveRuns.clear();
};

function installHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
}

function uninstallHandlers(): void {
  if (!installed) return;
  installed = false;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('exit', onExit);
}

/** Removes runs by label from a child process, waiting for it: usable inside an 'exit' handler. */
function removeSynchronously(runs: readonly LiveRun[]): void {
  const bySocket = new Map<string, string[]>();
  for (const run of runs) {
    if (!run.socketPath) continue;
    bySocket.set(run.socketPath, [...(bySocket.get(run.socketPath) ?? []), run.runId]);
  }
  for (const [socketPath, runIds] of bySocket) {
    spawnSync(process.execPath, ['-e', REMOVE_RUNS_SCRIPT, socketPath, ...runIds], { stdio: 'ignore', timeout: SIGNAL_CLEANUP_BUDGET_MS });
  }
}

// Plain JavaScript for `node -e`: only node builtins, talks to the engine socket directly.
const REMOVE_RUNS_SCRIPT = `
const http = require('node:http');
const [socketPath, ...runIds] = process.argv.slice(1);
const call = (method, path) => new Promise((resolve) => {
  const req = http.request({ socketPath, method, path }, (res) => {
    let body = '';
    res.on('data', (c) => (body += c));
    res.on('end', () => { try { resolve(JSON.parse(body)); } catch { resolve(null); } });
  });
  req.on('error', () => resolve(null));
  req.end();
});
const filter = (id) => encodeURIComponent(JSON.stringify({ label: ['${RUN_LABEL}=' + id] }));
(async () => {
  for (const id of runIds) {
    const containers = (await call('GET', '/containers/json?all=1&filters=' + filter(id))) || [];
    await Promise.all(containers.map((c) => call('DELETE', '/containers/' + c.Id + '?force=1&v=1')));
    const networks = (await call('GET', '/networks?filters=' + filter(id))) || [];
    await Promise.all(networks.map((n) => call('DELETE', '/networks/' + n.Id)));
    const volumes = ((await call('GET', '/volumes?filters=' + filter(id))) || {}).Volumes || [];
    await Promise.all(volumes.map((v) => call('DELETE', '/volumes/' + v.Name)));
  }
})();
`;

export interface SweepReport {
  runIds: string[];
  containers: number;
  networks: number;
  volumes: number;
  errors: string[];
}

/** True when the process is alive (or exists but is not ours to signal). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Which of these labelled resources belong to dead runs: recorded on this machine, by a pid
 * that no longer runs, and not by a run of this process.
 */
export function staleRunIds(labelSets: ReadonlyArray<Readonly<Record<string, string>> | undefined>, machine: string, alive: (pid: number) => boolean, ownRunIds: ReadonlySet<string>): string[] {
  const stale = new Set<string>();
  for (const labels of labelSets) {
    const runId = labels?.[RUN_LABEL];
    if (!runId || ownRunIds.has(runId)) continue;
    if (labels?.[OWNER_HOST_LABEL] !== machine) continue;
    const pid = Number(labels?.[PID_LABEL]);
    if (!alive(pid)) stale.add(runId);
  }
  return [...stale].sort();
}

/** Removes every resource of runs whose owning process is gone. */
export async function sweepStale(docker: Docker = new Docker()): Promise<SweepReport> {
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters: allRunsFilter() }),
    docker.listNetworks({ filters: allRunsFilter() }),
    docker.listVolumes({ filters: allRunsFilter() }),
  ]);
  const labelSets = [
    ...containers.map((c) => c.Labels),
    ...networks.map((n) => n.Labels),
    ...(volumes.Volumes ?? []).map((v) => v.Labels),
  ];
  const runIds = staleRunIds(labelSets, hostname(), isPidAlive, new Set(liveRunIds()));
  const report: SweepReport = { runIds, containers: 0, networks: 0, volumes: 0, errors: [] };
  for (const runId of runIds) {
    const removed = await removeRun(docker, runId);
    report.containers += removed.containers;
    report.networks += removed.networks;
    report.volumes += removed.volumes;
    report.errors.push(...removed.errors);
  }
  return report;
}

/** Removes every resource labelled with this run id: containers first, then what they used. */
export async function removeRun(docker: Docker, runId: string): Promise<Omit<SweepReport, 'runIds'>> {
  const errors: string[] = [];
  const attempt = async (what: string, op: () => Promise<unknown>): Promise<number> => {
    try {
      await op();
      return 1;
    } catch (err) {
      if (isNotFound(err)) return 0;
      errors.push(`${what}: ${messageOf(err)}`);
      return 0;
    }
  };
  const sum = (ns: number[]) => ns.reduce((a, b) => a + b, 0);
  const containers = await docker.listContainers({ all: true, filters: runFilter(runId) });
  const removedContainers = sum(await Promise.all(containers.map((c) => attempt(`container ${c.Id.slice(0, 12)}`, () => docker.getContainer(c.Id).remove({ force: true, v: true })))));
  const networks = await docker.listNetworks({ filters: runFilter(runId) });
  const removedNetworks = sum(await Promise.all(networks.map((n) => attempt(`network ${n.Name}`, () => docker.getNetwork(n.Id).remove()))));
  const volumes = (await docker.listVolumes({ filters: runFilter(runId) })).Volumes ?? [];
  const removedVolumes = sum(await Promise.all(volumes.map((v) => attempt(`volume ${v.Name}`, () => docker.getVolume(v.Name).remove()))));
  return { containers: removedContainers, networks: removedNetworks, volumes: removedVolumes, errors };
}
