// Uptests (Velociraptor's idea): every executable in `<uptests.path>/<role>/` inside the app's own
// image, run in order of name (or at once), in a sibling container of the same image on the app
// network with the app's env and args `<container name> <app port>`. All run even when one fails.
// An image with a shell runs them all in one container (uptest-runner.ts: one start per role and
// host, not one per uptest); one without gets a container per uptest. Shared by deploy (as a
// gate) and by `gangway test`, so nothing here knows about deploys.
import { posix } from 'node:path';
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { extract } from 'tar-stream';
import { operationError, messageOf } from '../errors.js';
import { sleep, within } from '../sleep.js';
import type { Events } from '../events/events.js';
import type { Host } from '../hosts/host.js';
import { isNotFound } from '../docker/errors.js';
import { combinedLogText } from '../docker/logs.js';
import { removeContainer } from '../app/container.js';
import type { Gate, GateOptions, GateResult, GateTarget } from './gate.js';
import { createContainer } from '../docker/containers.js';
import { followLogLines, readStreamLines, type LogLine } from '../docker/log-lines.js';
import { capTail, cutShortReason, RUNNER_SHELL, RunnerLog, runnerContainerSpec, UPTEST_MANAGED, uptestContainerSpec, type RunnerStop, type UptestResult } from './uptest-runner.js';

export { UPTEST_MANAGED, uptestContainerSpec, type UptestContainerInput, type UptestResult } from './uptest-runner.js';


export interface UptestRunInput {
  host: Host;
  image: string;
  role: string;
  /** uptests.path from the config; relative paths are relative to the image's WORKDIR. */
  uptestsPath: string;
  /** Name of the container under test: the first argument, reachable by that name on the network. */
  targetName: string;
  appPort: number;
  network: string;
  /**
   * A running container whose network namespace the uptests join (the deploy's new container):
   * on the same network through it, without a network endpoint of their own to set up at start.
   */
  sharesNetworkOf?: string;
  /** The same env as the app container (clear + secret). */
  env: Record<string, string>;
  timeoutMs: number;
  /** Extra labels for the uptest containers (a test's cleanup label). */
  labels?: Record<string, string>;
  maxOutputBytes?: number;
  /** Run the uptests at once instead of one after another (results stay in name order). */
  parallel?: boolean;
  events?: Events;
  signal?: AbortSignal;
  /**
   * Listed and created ahead (prepareUptests, while the app's health is still awaited): the run
   * only starts them. Rejects with the listing's error.
   */
  prepared?: Promise<PreparedUptests>;
  /**
   * Takes the removal of the uptests' containers, which the caller awaits later (a deploy: after
   * its switch); without it, the run awaits the removal before it returns.
   */
  defer?: (cleanup: Promise<void>) => void;
  /**
   * The role's uptests listed once (listUptestsOnce), used when this host's image has the same id;
   * `own`: this host is the one listing them, so it waits for that listing however long it takes.
   */
  shared?: { listing: Promise<SharedUptestListing>; imageId: string | undefined; own?: boolean };
}

/** A role's uptests listed from the image on one host, and that image's id. */
export interface SharedUptestListing {
  imageId: string;
  dir: string;
  names: string[];
  shell: boolean;
}

/** Lists the role's uptests on one host for the others (see UptestRunInput.shared); rejects with the listing's error. */
export async function listUptestsOnce(input: Pick<UptestRunInput, 'host' | 'image' | 'role' | 'uptestsPath' | 'labels' | 'defer'>, imageId: string): Promise<SharedUptestListing> {
  return { imageId, ...(await listOrExplain(input)) };
}

/** The shared listing when it is of this host's image; undefined (list here) otherwise or when it failed. */
export async function sharedListing(input: Pick<UptestRunInput, 'shared'>, waitMs = SHARED_LISTING_WAIT_MS): Promise<SharedUptestListing | undefined> {
  if (!input.shared?.imageId) return undefined;
  const listed = input.shared.listing.catch(() => undefined);
  // Another host's listing is waited for a bounded time: a stuck host must not hold this one's
  // uptests (its own failure is the deploy's to report). The lister's own is not: listing again
  // there would run a second probe on the host that is already slow.
  const done = new AbortController();
  const listing = input.shared.own ? await listed : await Promise.race([listed, sleep(waitMs, done.signal).then(() => undefined)]);
  done.abort();
  return listing?.imageId === input.shared.imageId ? listing : undefined;
}

/** How long a host waits for the role's shared listing before it lists its own (a listing takes ~0.1-0.3 s here). */
export const SHARED_LISTING_WAIT_MS = 3000;


/** A role's uptests listed from the image, with the created container(s) to run them (the one runner started, waiting for its go, when ARM_RUNNER is on). */
export interface PreparedUptests {
  dir: string;
  names: string[];
  /** The one container that runs them all (an image with a shell), and its run's marker. */
  runner?: { name: string; marker: string; armed?: boolean };
  /** Without a runner: uptest name -> its created container; one whose create failed is created again at run time. */
  containers: Map<string, string>;
}

export interface TarEntryLike {
  name: string;
  type?: string | null;
  mode?: number | null;
}

/**
 * Pure: the archive of `<dir>/<role>` (entries named `<role>/...`) → names of the executables
 * directly inside it, sorted byte-wise so the order does not depend on a locale. Symlinks are kept:
 * whether their target runs is the uptest's own verdict.
 */
export function uptestNamesFromArchive(entries: TarEntryLike[]): string[] {
  const names: string[] = [];
  for (const e of entries) {
    const parts = e.name.replace(/^\.\//, '').replace(/\/$/, '').split('/');
    if (parts.length !== 2 || !parts[1] || parts[1].startsWith('.')) continue;
    const executable = e.type === 'symlink' || ((e.type ?? 'file') === 'file' && ((e.mode ?? 0) & 0o111) !== 0);
    if (executable) names.push(parts[1]);
  }
  return [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Absolute directory of a role's uptests inside the image. */
export function uptestsDir(workingDir: string | undefined, uptestsPath: string, role: string): string {
  return posix.resolve(workingDir || '/', uptestsPath, role);
}

export function uptestContainerName(targetName: string, uptestName: string, suffix: string): string {
  return `${targetName}-uptest-${uptestName}-${suffix}`.replace(/[^a-zA-Z0-9_.-]/g, '_');
}



/**
 * Reads the role's uptest directory straight from the image's filesystem (a created, never
 * started container + GET /archive), so it works for images without a shell, ls or find.
 */
export async function listUptests(host: Host, image: string, uptestsPath: string, role: string, labels: Record<string, string> = {}): Promise<{ dir: string; names: string[] }> {
  const { dir, names } = await probeUptests(host, image, uptestsPath, role, labels);
  return { dir, names };
}

/**
 * The listing, and whether the image has the shell that runs them all in one container. On a
 * deploy's path (the uptests' chain outlasts the health gate), so its requests overlap: the
 * image's inspect beside the probe's create, the shell's HEAD beside the listing's GET, and the
 * probe's removal handed to `defer` when given.
 */
async function probeUptests(host: Host, image: string, uptestsPath: string, role: string, labels: Record<string, string>, defer?: (cleanup: Promise<void>) => void): Promise<{ dir: string; names: string[]; shell: boolean }> {
  const docker = await host.docker();
  const [inspected, created] = await Promise.allSettled([
    docker.getImage(image).inspect(),
    createContainer(docker, {
      Image: image,
      // Never started; an entrypoint is set only because images without CMD refuse to be created.
      Entrypoint: ['/gangway-uptest-listing'],
      Cmd: [],
      Labels: { ...labels, 'gangway.managed': UPTEST_MANAGED },
      NetworkDisabled: true,
    }),
  ]);
  if (inspected.status === 'rejected') {
    if (created.status === 'fulfilled') await created.value.remove({ force: true }).catch(() => {});
    throw inspected.reason;
  }
  if (created.status === 'rejected') throw created.reason;
  const probe = created.value;
  const dir = uptestsDir(inspected.value.Config?.WorkingDir, uptestsPath, role);
  try {
    // HEAD of the path: no body, one request; a missing shell is a 404. dockerode hands the HEAD's
    // response back as a stream: read to its (empty) end, its socket goes back to the agent's pool
    // for the next request (destroyed, the next request over SSH needed a new docker stream; left
    // unread, it kept a local engine's CLI from exiting).
    const shell = probe.infoArchive({ path: RUNNER_SHELL }).then((res: unknown) => {
      (res as { resume?: () => void } | undefined)?.resume?.();
      return true;
    }, () => false);
    let archive: NodeJS.ReadableStream;
    try {
      archive = await probe.getArchive({ path: dir });
    } catch (err) {
      await shell;
      if (isNotFound(err)) return { dir, names: [], shell: false };
      throw err;
    }
    const entries: TarEntryLike[] = [];
    const reader = extract();
    const done = (async () => {
      for await (const entry of reader) {
        entries.push({ name: entry.header.name, type: entry.header.type, mode: entry.header.mode });
        entry.resume();
      }
    })();
    (archive as NodeJS.ReadableStream).pipe(reader);
    await done;
    return { dir, names: uptestNamesFromArchive(entries), shell: await shell };
  } finally {
    const removal = probe.remove({ force: true }).then(() => {}, () => {});
    if (defer) defer(removal);
    else await removal;
  }
}

type UptestSpecInput = Omit<UptestRunInput, 'host' | 'role' | 'uptestsPath' | 'timeoutMs' | 'events' | 'signal' | 'prepared'>;

function specFor(input: UptestSpecInput, dir: string, name: string): Docker.ContainerCreateOptions & { name: string } {
  const containerName = uptestContainerName(input.targetName, name, randomBytes(3).toString('hex'));
  return {
    ...uptestContainerSpec({
      name: containerName,
      image: input.image,
      path: posix.join(dir, name),
      targetName: input.targetName,
      appPort: input.appPort,
      network: input.network,
      ...(input.sharesNetworkOf ? { sharesNetworkOf: input.sharesNetworkOf } : {}),
      env: input.env,
      labels: input.labels,
    }),
    name: containerName,
  };
}

/**
 * Lists the role's uptests and creates their containers, so the deploy does this while it still
 * waits for the app's health and the gate only has to run them (issue 16: a created container is
 * the same container a later create would make). With ARM_RUNNER on, the one runner of an image
 * with a shell is also started, armed: it waits for its go, so nothing runs before the app is
 * healthy. The caller removes them with discardUptests when the gate never runs.
 */
export async function prepareUptests(input: Omit<UptestRunInput, 'prepared'>): Promise<PreparedUptests> {
  const listing = (await sharedListing(input)) ?? (await listOrExplain(input));
  const docker = await input.host.docker();
  const containers = new Map<string, string>();
  if (listing.shell && listing.names.length > 0) {
    const marker = `gangway-uptests-${randomBytes(6).toString('hex')}`;
    const spec = runnerContainerSpec({
      name: uptestContainerName(input.targetName, 'all', randomBytes(3).toString('hex')),
      image: input.image,
      dir: listing.dir,
      names: listing.names,
      marker,
      timeoutMs: input.timeoutMs,
      parallel: input.parallel ?? false,
      targetName: input.targetName,
      appPort: input.appPort,
      network: input.network,
      ...(input.sharesNetworkOf ? { sharesNetworkOf: input.sharesNetworkOf } : {}),
      env: input.env,
      labels: input.labels,
      armed: ARM_RUNNER,
    });
    try {
      // Armed, it is started now, while the app's health is awaited, and only waits for its go
      // (see RUNNER_SCRIPT).
      const created = await createContainer(docker, spec);
      if (ARM_RUNNER) await created.start();
      return { dir: listing.dir, names: listing.names, runner: { name: spec.name, marker, armed: ARM_RUNNER }, containers };
    } catch {
      // One container per uptest instead, which then reports why it could not run, if it cannot.
      await removeContainer(input.host, spec.name).catch(() => {});
    }
  }
  await Promise.all(
    listing.names.map(async (name) => {
      const spec = specFor(input, listing.dir, name);
      try {
        await createContainer(docker, spec);
        containers.set(name, spec.name);
      } catch {
        // Created again by the run, which then reports why it could not.
        await removeContainer(input.host, spec.name).catch(() => {});
      }
    }),
  );
  return { dir: listing.dir, names: listing.names, containers };
}

/**
 * Whether prepareUptests starts the runner early, waiting for its go on stdin (measured: saves
 * the container start after the health wait, ~0.25 s idle and seconds on a saturated host). A
 * gangway killed before the go leaves the runner waiting; the next deploy of the version sweeps
 * it with the candidate.
 */
const ARM_RUNNER = true;

/** Removes an uptest container that ran: now, or handed to the caller's `defer`. Never throws. */
async function removeLater(input: UptestRunInput, name: string): Promise<void> {
  const removal = removeContainer(input.host, name).then(() => {}, () => {});
  if (input.defer) input.defer(removal);
  else await removal;
}

/** Removes prepared uptest containers whose uptests never ran (the health gate failed, an abort). */
export async function discardUptests(host: Host, prepared: Promise<PreparedUptests> | undefined): Promise<void> {
  const ready = await prepared?.catch(() => undefined);
  if (!ready) return;
  const names = [...ready.containers.values(), ...(ready.runner ? [ready.runner.name] : [])];
  await Promise.all(names.map((name) => removeContainer(host, name).catch(() => {})));
}

/**
 * Runs one uptest (in `created`, a container prepareUptests made, or a new one); never throws for
 * the uptest's own failure, always removes its container.
 */
export async function runOneUptest(input: UptestRunInput, dir: string, name: string, created?: string): Promise<UptestResult> {
  const docker = await input.host.docker();
  const started = Date.now();
  const spec = created ? undefined : specFor(input, dir, name);
  const containerName = created ?? spec!.name;
  let timedOut = false;
  let aborted = false;
  let exitCode: number | null = null;
  let output = '';
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const container = spec ? await createContainer(docker, spec) : docker.getContainer(containerName);
    await container.start();
    const stop = new Promise<'timeout' | 'aborted'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), input.timeoutMs);
      onAbort = () => resolve('aborted');
      input.signal?.addEventListener('abort', onAbort, { once: true });
    });
    const waited = await Promise.race([container.wait() as Promise<{ StatusCode: number }>, stop]);
    if (waited === 'timeout' || waited === 'aborted') {
      timedOut = waited === 'timeout';
      aborted = waited === 'aborted';
      await container.kill().catch(() => {});
    } else {
      exitCode = waited.StatusCode;
    }
    const raw = (await container.logs({ stdout: true, stderr: true, follow: false }).catch(() => Buffer.alloc(0))) as unknown;
    output = capTail(combinedLogText(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw))), input.maxOutputBytes ?? 64 * 1024);
  } catch (err) {
    output = `could not run the uptest: ${messageOf(err)}`;
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) input.signal?.removeEventListener('abort', onAbort);
    await removeLater(input, containerName);
  }
  const sep = output && !output.endsWith('\n') ? '\n' : '';
  if (timedOut) output += `${sep}uptest ${name} did not finish within ${input.timeoutMs} ms and was killed\n`;
  if (aborted) output += `${sep}uptest ${name} was stopped: the deploy was aborted\n`;
  return { name, passed: !timedOut && !aborted && exitCode === 0, exitCode, timedOut, ...(aborted ? { aborted } : {}), durationMs: Date.now() - started, output };
}

/**
 * Lists and runs every uptest of the role; all of them, even when one fails. With `parallel` they
 * run at once (each in its own container, so they cannot disturb each other's process state);
 * either way the results come back in name order.
 */
export async function runUptests(input: UptestRunInput): Promise<UptestResult[]> {
  const listing = await (input.prepared ?? prepareUptests(input));
  if (listing.runner) return runInOneContainer(input, listing, listing.runner);
  const runOne = async (name: string): Promise<UptestResult> => {
    stepStart(input, name);
    const result = await runOneUptest(input, listing.dir, name, listing.containers.get(name));
    stepEnd(input, result);
    return result;
  };
  if (input.parallel) return Promise.all(listing.names.map(runOne));
  const results: UptestResult[] = [];
  for (const name of listing.names) results.push(await runOne(name));
  return results;
}

function stepStart(input: UptestRunInput, name: string): void {
  input.events?.step(`uptest ${name}`, 'start', { host: input.host.name, role: input.role });
}

/** How an uptest ended: gangway's own stops decide before an exit status, and no status is no result (its run was cut short). */
type UptestOutcome = 'passed' | 'timed out' | 'aborted' | 'no result' | 'failed';

function outcomeOf(r: UptestResult): UptestOutcome {
  if (r.passed) return 'passed';
  if (r.timedOut) return 'timed out';
  if (r.aborted) return 'aborted';
  return r.exitCode === null ? 'no result' : 'failed';
}

function stepEnd(input: UptestRunInput, result: UptestResult): void {
  const message = {
    passed: 'passed',
    'timed out': `timed out after ${input.timeoutMs} ms`,
    aborted: 'stopped (deploy aborted)',
    'no result': 'no result (see its output)',
    failed: `failed with exit code ${result.exitCode}`,
  }[outcomeOf(result)];
  input.events?.step(`uptest ${result.name}`, result.passed ? 'done' : 'fail', { host: input.host.name, role: input.role, message, durationMs: result.durationMs });
}

/** Beyond the uptests' own timeouts, before gangway stops the container itself (a stuck shell). */
const RUNNER_GRACE_MS = 10_000;
/** After the last uptest ended: the rest of its output, then the container's own exit. */
const RUNNER_SETTLE_MS = 2_000;

/**
 * Starts the one container, reads its marker lines as they come (each uptest's start and end are
 * events at once) and ends when the container does; gangway's deadline, an abort, or a container
 * still up once every uptest ended stop it. Never throws for an uptest's failure; always removes
 * the container.
 */
async function runInOneContainer(input: UptestRunInput, listing: PreparedUptests, runner: NonNullable<PreparedUptests['runner']>): Promise<UptestResult[]> {
  const docker = await input.host.docker();
  const log = new RunnerLog(runner.marker, listing.names);
  const maxOutputBytes = input.maxOutputBytes ?? 64 * 1024;
  const reported = new Set<number>();
  const done = new AbortController();
  let stop: RunnerStop = 'finished';
  const stopWith = (why: RunnerStop) => () => {
    if (stop === 'finished') stop = why;
    done.abort();
  };
  const onAbort = stopWith('aborted');
  const deadline = setTimeout(stopWith('timeout'), (input.parallel ? 1 : listing.names.length) * input.timeoutMs + RUNNER_GRACE_MS);
  let settle: NodeJS.Timeout | undefined;
  input.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (input.signal?.aborted) onAbort();
    else {
      const onLine = (line: LogLine) => {
        const seen = log.accept(line.text, Date.now());
        if (seen?.kind === 'start') stepStart(input, listing.names[seen.index]!);
        if (seen?.kind === 'end') {
          reported.add(seen.index);
          stepEnd(input, log.result(seen.index, { timeoutMs: input.timeoutMs, stop, now: Date.now(), maxOutputBytes }));
          if (log.allEnded()) settle ??= setTimeout(() => done.abort(), RUNNER_SETTLE_MS);
        }
      };
      if (runner.armed) {
        // Already running, waiting on stdin: the attach carries the go in and its output out.
        const stream = (await docker.getContainer(runner.name).attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as unknown as NodeJS.ReadWriteStream & { destroy(): void };
        stream.write('go\n');
        await readStreamLines(stream, onLine, { signal: done.signal });
      } else {
        await docker.getContainer(runner.name).start();
        await followLogLines(docker, runner.name, {}, onLine, done.signal);
      }
      if (stop === 'finished' && !log.allEnded()) log.cutShort(await whyCutShort(docker, input.host.name, runner.name));
    }
  } catch (err) {
    log.cutShort(`could not start the uptests' container: ${messageOf(err)}`);
  } finally {
    clearTimeout(deadline);
    if (settle) clearTimeout(settle);
    input.signal?.removeEventListener('abort', onAbort);
    await removeLater(input, runner.name);
  }
  const now = Date.now();
  const results = listing.names.map((_, i) => log.result(i, { timeoutMs: input.timeoutMs, stop, now, maxOutputBytes }));
  for (const [i, r] of results.entries()) {
    if (reported.has(i)) continue;
    if (!log.started(i)) stepStart(input, r.name);
    stepEnd(input, r);
  }
  return results;
}

/** Bounds the look at a host whose stream just ended: a frozen host would hold it for the connect timeout. */
const CUT_SHORT_LOOK_MS = 5_000;

/** Why the runner's output ended before its uptests did: one inspect of its container (the failure path only). */
async function whyCutShort(docker: Docker, host: string, name: string): Promise<string> {
  try {
    const info = await within(docker.getContainer(name).inspect(), CUT_SHORT_LOOK_MS, undefined);
    if (!info) return cutShortReason(host, { error: `no answer from its engine within ${CUT_SHORT_LOOK_MS / 1000} s` });
    const { State } = info;
    return cutShortReason(host, State.Running ? { container: 'running' } : { container: 'exited', exitCode: State.ExitCode, oomKilled: State.OOMKilled });
  } catch (err) {
    return cutShortReason(host, { error: messageOf(err) });
  }
}

async function listOrExplain(input: Pick<UptestRunInput, 'host' | 'image' | 'role' | 'uptestsPath' | 'labels' | 'defer'>): Promise<{ dir: string; names: string[]; shell: boolean }> {
  try {
    return await probeUptests(input.host, input.image, input.uptestsPath, input.role, input.labels ?? {}, input.defer);
  } catch (err) {
    throw operationError(`could not list the uptests of ${input.role} in ${input.image}: ${messageOf(err)}`, { host: input.host.name, role: input.role, step: 'uptests', cause: err });
  }
}

/** Pure: the lines that explain a set of uptest results (failures with their output). */
export function describeUptestResults(results: UptestResult[]): { passed: boolean; message: string; details: string[] } {
  const failed = results.filter((r) => !r.passed);
  const details: string[] = [];
  for (const r of results) {
    const verdict = {
      passed: 'passed',
      'timed out': `TIMED OUT (hung, killed after ${r.durationMs} ms)`,
      aborted: 'STOPPED (the deploy was aborted)',
      'no result': 'NO RESULT',
      failed: `FAILED (exit ${r.exitCode})`,
    }[outcomeOf(r)];
    details.push(`uptest ${r.name}: ${verdict} in ${r.durationMs} ms`);
    if (!r.passed) for (const line of r.output.split('\n').filter((l) => l.trim() !== '')) details.push(`  ${r.name}| ${line}`);
  }
  if (results.length === 0) return { passed: true, message: 'no uptests for this role', details };
  const named = (outcome: UptestOutcome) => failed.filter((r) => outcomeOf(r) === outcome).map((r) => r.name);
  const hung = named('timed out');
  const unknown = named('no result');
  const message = failed.length === 0
    ? `${results.length} uptest${results.length === 1 ? '' : 's'} passed`
    : `${failed.length} of ${results.length} uptests failed: ${failed.map((r) => r.name).join(', ')}${hung.length ? ` (hung: ${hung.join(', ')})` : ''}${unknown.length ? ` (no result: ${unknown.join(', ')})` : ''}`;
  return { passed: failed.length === 0, message, details };
}

export type UptestsGateOptions = Omit<UptestRunInput, 'host' | 'targetName' | 'events' | 'signal' | 'role'> & { role?: string };

/** The uptests as a deploy gate: the target container is the first argument to every uptest. */
export function uptestsGate(options: UptestsGateOptions): Gate {
  return {
    name: 'uptests',
    async check(target: GateTarget, opts: GateOptions = {}): Promise<GateResult & { uptests: UptestResult[] }> {
      const started = Date.now();
      const role = options.role ?? target.role;
      if (!role) throw new Error('uptestsGate needs a role');
      const results = await runUptests({ ...options, role, host: target.host, targetName: target.container, events: opts.events, signal: opts.signal });
      const summary = describeUptestResults(results);
      return { gate: 'uptests', passed: summary.passed, message: summary.message, details: summary.details, durationMs: Date.now() - started, uptests: results };
    },
  };
}
