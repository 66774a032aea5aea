// Every uptest of a role in one sibling container (issue 16: one container start per host instead
// of one per uptest). A POSIX sh script, run as the container's entrypoint with the image's own
// shell, runs each uptest with the same args as before, in order or at once, each under its own
// timeout, and frames what happens with lines that start with a per-run random marker:
//   <marker> start <i>          uptest i starts
//   <marker> out <i> <text>     one line it wrote (stdout and stderr, interleaved)
//   <marker> killed <i>         its timeout killed it
//   <marker> end <i> <status>   it ended with that exit status
// Pure: the script, the container's create options and the reading of those lines into results.
import type Docker from 'dockerode';

export interface UptestResult {
  name: string;
  passed: boolean;
  /** The uptest's exit code; null when it was killed for its timeout (or never started). */
  exitCode: number | null;
  timedOut: boolean;
  /** Stopped before its end because the deploy was aborted (another host failed, Ctrl-C). */
  aborted?: boolean;
  durationMs: number;
  /** stdout and stderr interleaved, capped to the last maxOutputBytes. */
  output: string;
}

export const UPTEST_MANAGED = 'uptest';

export interface UptestContainerInput {
  name: string;
  image: string;
  /** Absolute path of the uptest inside the image. */
  path: string;
  targetName: string;
  appPort: number;
  network: string;
  /** Joins this container's network namespace instead of `network` (see UptestRunInput). */
  sharesNetworkOf?: string;
  env: Record<string, string>;
  labels?: Record<string, string>;
}

/** Pure: create options for one uptest's container. */
export function uptestContainerSpec(input: UptestContainerInput): Docker.ContainerCreateOptions {
  return {
    name: input.name,
    Image: input.image,
    Entrypoint: [input.path],
    Cmd: [input.targetName, String(input.appPort)],
    Env: Object.keys(input.env).sort().map((k) => `${k}=${input.env[k]}`),
    Labels: { ...input.labels, 'gangway.managed': UPTEST_MANAGED, 'gangway.uptest_of': input.targetName },
    HostConfig: {
      // Joining the app container's namespace skips the network endpoint a container of its own
      // would need: the runner's start took 0.13-0.18 s instead of 0.37-0.42 s on a sandbox host.
      NetworkMode: input.sharesNetworkOf ? `container:${input.sharesNetworkOf}` : input.network,
      // json-file explicitly: the output is read back with GET /logs after the uptest ends.
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } },
    },
  };
}


/**
 * $1 marker, $2 timeout in whole seconds, $3 the uptests' directory, $4 1 = at once, $5 target,
 * $6 port, $7 1 = armed, then the uptests' names. Armed, it first waits for the line `go` on its
 * stdin (gangway writes it through an attach once the app passed its health gate), so the
 * container can start while the health wait runs and nothing of an uptest runs before it; stdin
 * closed without `go` ends it having run nothing. fd 3 is the container's stdout: markers go there, and the
 * uptest never gets it, so it cannot write a marker line. Each uptest runs in its own session
 * (setsid, when the image has it) so its timeout kills what it started as well; a child that
 * outlived it would hold the output pipe open and stall the run. A missing `sleep` only loses
 * the in-container timeout: gangway's own deadline still stops the container.
 */
export const RUNNER_SCRIPT = [
  'm=$1 t=$2 d=$3 par=$4 target=$5 port=$6 arm=$7',
  'shift 7',
  'if [ "$arm" = 1 ]; then IFS= read -r go || exit 0; [ "$go" = go ] || exit 0; fi',
  'exec 3>&1',
  'if command -v setsid >/dev/null 2>&1; then sess=setsid; else sess=; fi',
  'tag() { while IFS= read -r l || [ -n "$l" ]; do printf \'%s out %s %s\\n\' "$m" "$1" "$l" >&3; done; }',
  'one() {',
  '  echo "$m start $1" >&3',
  '  {',
  '    $sess "$d/$2" "$target" "$port" </dev/null 2>&1 3>&- &',
  '    p=$!',
  // The killed line goes out before the kill: after it, the end line would race this
  // subshell's echo (the shell kills the watchdog as soon as the uptest's wait returns).
  '    ( sleep "$t" && echo "$m killed $1" >&3 && { kill -9 -"$p" 2>/dev/null || kill -9 "$p" 2>/dev/null; } ) >/dev/null 2>&1 &',
  '    w=$!',
  '    wait "$p"',
  '    rc=$?',
  // What it left running dies with it, as it did when each uptest was its container's init.
  '    kill -9 -"$p" 2>/dev/null',
  '    kill "$w" 2>/dev/null',
  '    echo "$m end $1 $rc" >&3',
  '  } | tag "$1"',
  '}',
  'i=0',
  'for n in "$@"; do',
  '  if [ "$par" = 1 ]; then one "$i" "$n" & else one "$i" "$n"; fi',
  '  i=$((i + 1))',
  'done',
  'wait',
].join('\n');

/** Where the image's shell is: an image without one runs each uptest in its own container. */
export const RUNNER_SHELL = '/bin/sh';

export interface RunnerSpecInput extends Omit<UptestContainerInput, 'path'> {
  /** Absolute directory of the role's uptests inside the image. */
  dir: string;
  names: string[];
  marker: string;
  timeoutMs: number;
  parallel: boolean;
  /** Started ahead, waiting for `go` on stdin (see RUNNER_SCRIPT). */
  armed?: boolean;
}

/** Whole seconds, rounded up: `sleep` takes fractions only in some images. */
export const runnerTimeoutSeconds = (timeoutMs: number): number => Math.max(1, Math.ceil(timeoutMs / 1000));

/** Pure: the create options of the one container; the uptests keep their env, network and args. */
export function runnerContainerSpec(input: RunnerSpecInput): Docker.ContainerCreateOptions & { name: string } {
  return {
    ...uptestContainerSpec({ ...input, path: input.dir }),
    name: input.name,
    Entrypoint: [RUNNER_SHELL, '-c', RUNNER_SCRIPT, 'gangway-uptests'],
    Cmd: [input.marker, String(runnerTimeoutSeconds(input.timeoutMs)), input.dir, input.parallel ? '1' : '0', input.targetName, String(input.appPort), input.armed ? '1' : '0', ...input.names],
    // Armed: stdin open (nothing written until the go), closed when the one attach ends.
    ...(input.armed ? { OpenStdin: true, StdinOnce: true } : {}),
  };
}

export type RunnerLine =
  | { kind: 'start'; index: number }
  | { kind: 'out'; index: number; text: string }
  | { kind: 'killed'; index: number }
  | { kind: 'end'; index: number; status: number };

/** Pure: one log line of the runner; undefined for a line that is not the marker's (the shell's own). */
export function parseRunnerLine(marker: string, line: string): RunnerLine | undefined {
  if (!line.startsWith(`${marker} `)) return undefined;
  const m = /^(start|out|killed|end) (\d+)(?: ([\s\S]*))?$/.exec(line.slice(marker.length + 1));
  if (!m) return undefined;
  const index = Number(m[2]);
  const rest = m[3] ?? '';
  if (m[1] === 'out') return { kind: 'out', index, text: rest };
  if (m[1] === 'end') return /^\d+$/.test(rest) ? { kind: 'end', index, status: Number(rest) } : undefined;
  return { kind: m[1] as 'start' | 'killed', index };
}

interface Progress {
  startedAt?: number;
  endedAt?: number;
  status?: number;
  killed: boolean;
  lines: string[];
}

/** How the run of the container ended, for the uptests that had not. */
export type RunnerStop = 'finished' | 'timeout' | 'aborted';

/**
 * Reads the runner's lines as they come (`accept`) and says what each means for the uptest it
 * names; `results` turns them into the same results one container per uptest gave.
 */
export class RunnerLog {
  private readonly progress: Progress[];
  /** Lines the shell itself wrote (a missing interpreter, a broken script): shown when an uptest has no end. */
  private readonly stray: string[] = [];
  /** Why the output ended before every uptest did, when gangway found out (see cutShortReason). */
  private cutShortBy?: string;

  constructor(private readonly marker: string, private readonly names: string[]) {
    this.progress = names.map(() => ({ killed: false, lines: [] }));
  }

  /** The line's meaning for the uptest it names, or undefined (output, the shell's own lines). */
  accept(line: string, now: number): { kind: 'start' | 'end'; index: number } | undefined {
    const parsed = parseRunnerLine(this.marker, line);
    const p = parsed ? this.progress[parsed.index] : undefined;
    if (!parsed || !p) {
      if (line.trim() !== '') this.stray.push(line);
      return undefined;
    }
    if (parsed.kind === 'out') p.lines.push(parsed.text);
    else if (parsed.kind === 'killed') p.killed = true;
    else if (parsed.kind === 'start') {
      p.startedAt = now;
      return { kind: 'start', index: parsed.index };
    } else if (p.endedAt === undefined) {
      p.endedAt = now;
      p.status = parsed.status;
      return { kind: 'end', index: parsed.index };
    }
    return undefined;
  }

  /** The output ended before every uptest did, for this reason (said instead of a guess). */
  cutShort(reason: string): void {
    this.cutShortBy = reason;
  }

  started(index: number): boolean {
    return this.progress[index]?.startedAt !== undefined;
  }

  allEnded(): boolean {
    return this.progress.every((p) => p.endedAt !== undefined);
  }

  result(index: number, o: { timeoutMs: number; stop: RunnerStop; now: number; maxOutputBytes: number }): UptestResult {
    const p = this.progress[index]!;
    const name = this.names[index]!;
    const ended = p.endedAt !== undefined;
    const exitCode = ended && !(p.killed && p.status !== 0) ? p.status! : null;
    // Killed by its timeout in the container, or still running when gangway's deadline came.
    const timedOut = (ended && p.killed && p.status !== 0) || (!ended && o.stop === 'timeout');
    const aborted = !ended && o.stop === 'aborted';
    let output = p.lines.map((l) => `${l}\n`).join('');
    if (!ended && o.stop === 'finished') {
      const why = this.cutShortBy ?? "the uptests' container ended before it did";
      output += `${p.startedAt === undefined ? 'could not run the uptest' : 'the uptest did not finish'}: ${why}${this.stray.length ? `:\n${this.stray.join('\n')}` : ''}\n`;
    }
    output = capTail(output, o.maxOutputBytes);
    if (p.startedAt === undefined && o.stop !== 'finished') output += `uptest ${name} did not start: the uptests' container was stopped\n`;
    if (timedOut) output += `uptest ${name} did not finish within ${o.timeoutMs} ms and was killed\n`;
    if (aborted) output += `uptest ${name} was stopped: the deploy was aborted\n`;
    const durationMs = p.startedAt === undefined ? 0 : (p.endedAt ?? o.now) - p.startedAt;
    return { name, passed: ended && !timedOut && exitCode === 0, exitCode, timedOut, ...(aborted ? { aborted } : {}), durationMs, output };
  }
}

/** What gangway found when the runner's output ended before every uptest did. */
export type CutShortFinding =
  | { container: 'running' }
  | { container: 'exited'; exitCode: number; oomKilled: boolean }
  | { error: string };

/**
 * Pure: why the uptests' output ended early, from a look at their container right after. An
 * engine that no longer answers means the connection to the host was lost: the uptests' outcome
 * is unknown, and saying their container ended would be a guess.
 */
export function cutShortReason(host: string, found: CutShortFinding): string {
  if ('error' in found) return `lost the connection to ${host} before the uptests ended, so their outcome is unknown (${found.error})`;
  if (found.container === 'running') return `the uptests' output from ${host} stopped while their container still ran`;
  return `the uptests' container ended (exit ${found.exitCode}${found.oomKilled ? ', out of memory' : ''}) before it did`;
}

/** The last maxBytes of a text, saying how much was cut. */
export function capTail(text: string, maxBytes: number): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= maxBytes) return text;
  return `[... ${buf.length - maxBytes} bytes cut]\n${buf.subarray(buf.length - maxBytes).toString('utf8')}`;
}
