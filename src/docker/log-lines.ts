// Container log lines as gangway shows them: split per stream, each with the engine's timestamp,
// filtered by a pattern and cut to the last N. The one reader behind `gangway logs` and
// `gangway accessory logs`.
import type Docker from 'dockerode';
import { LogFrameParser, type LogFrame } from './logs.js';

export interface LogLine {
  text: string;
  /** A TTY container's output is one raw stream, all of it stdout. */
  stream?: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, as the engine recorded the line. */
  timestamp?: string;
}

export interface LogQuery {
  /** Engine form: unix seconds with an optional fraction, e.g. "1700000000.123456789". */
  since?: string;
  /** The last N lines; with grep, the last N of those that match. Absent: every line. */
  lines?: number;
  grep?: RegExp;
}

/**
 * Frames to lines, each stream on its own: a line split across frames (the engine cuts long
 * lines) waits for the rest of its stream, and stdout's half line never swallows stderr's.
 */
export class LogLineSplitter {
  private readonly partial = new Map<LogFrame['stream'], string>();

  push(frames: LogFrame[]): LogLine[] {
    const out: LogLine[] = [];
    for (const f of frames) {
      const pieces = ((this.partial.get(f.stream) ?? '') + f.data.toString('utf8')).split('\n');
      this.partial.set(f.stream, pieces.pop()!);
      for (const piece of pieces) out.push(lineOf(piece, f.stream));
    }
    return out;
  }

  end(): LogLine[] {
    const out = [...this.partial].filter(([, text]) => text !== '').map(([stream, text]) => lineOf(text, stream));
    this.partial.clear();
    return out;
  }
}

// RFC 3339 as the engine writes it before each line when asked for timestamps.
const TIMESTAMP_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;

function lineOf(raw: string, stream: LogFrame['stream']): LogLine {
  const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const m = TIMESTAMP_RE.exec(text);
  const streamField = stream === 'stdin' ? {} : { stream };
  return m ? { text: text.slice(m[0].length), ...streamField, timestamp: m[1]! } : { text, ...streamField };
}

/** Pure: a whole log body (frames or raw) as lines. */
export function logLinesOf(body: Buffer): LogLine[] {
  const frames = new LogFrameParser();
  const lines = new LogLineSplitter();
  return [...lines.push(frames.push(body)), ...lines.push(frames.end()), ...lines.end()];
}

/** Pure: the lines that match, then the last `lines` of them. */
export function selectLines(all: readonly LogLine[], query: Pick<LogQuery, 'grep' | 'lines'>): LogLine[] {
  const matching = query.grep ? all.filter((l) => query.grep!.test(l.text)) : [...all];
  return query.lines === undefined ? matching : query.lines <= 0 ? [] : matching.slice(-query.lines);
}

/**
 * What the container logged (since `query.since`, before `until`): without a pattern the engine
 * cuts the tail; with one every line is read, since the last N matches may lie anywhere (the
 * log driver's size limit bounds that read).
 */
export async function readLogLines(docker: Docker, container: string, query: LogQuery, until?: string): Promise<LogLine[]> {
  const tail = query.grep || query.lines === undefined ? 'all' : query.lines;
  const options = { follow: false, stdout: true, stderr: true, timestamps: true, tail, ...(query.since ? { since: query.since } : {}), ...(until ? { until } : {}) };
  const body = (await docker.getContainer(container).logs(options as unknown as Docker.ContainerLogsOptions & { follow: false })) as unknown;
  return selectLines(logLinesOf(Buffer.isBuffer(body) ? body : Buffer.from(String(body))), query);
}

/**
 * Every line the container logs from `since` on, matching `grep`, until the container stops or
 * `signal` aborts. Resolves then; a broken connection ends it the same way.
 */
export async function followLogLines(docker: Docker, container: string, query: Pick<LogQuery, 'since' | 'grep'>, onLine: (line: LogLine) => void, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  const options = { follow: true, stdout: true, stderr: true, timestamps: true, ...(query.since ? { since: query.since } : {}) };
  const stream = (await docker.getContainer(container).logs(options as unknown as Docker.ContainerLogsOptions & { follow: true })) as NodeJS.ReadableStream & { destroy(): void };
  await readStreamLines(stream, onLine, { ...(query.grep ? { grep: query.grep } : {}), ...(signal ? { signal } : {}) });
}

/**
 * The lines of an engine stream (a followed log, an attach: frames, or raw for a TTY) as they
 * come, until it ends or `signal` aborts (which destroys it). Resolves then.
 */
export async function readStreamLines(stream: NodeJS.ReadableStream & { destroy(): void }, onLine: (line: LogLine) => void, opts: { grep?: RegExp; signal?: AbortSignal } = {}): Promise<void> {
  const { signal } = opts;
  const query = { grep: opts.grep };
  const frames = new LogFrameParser();
  const lines = new LogLineSplitter();
  const emit = (found: LogLine[]) => { for (const l of found) if (!query.grep || query.grep.test(l.text)) onLine(l); };
  await new Promise<void>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', stop);
      emit([...lines.push(frames.end()), ...lines.end()]);
      resolve();
    };
    const stop = () => { stream.destroy(); finish(); };
    stream.on('data', (chunk: Buffer) => emit(lines.push(frames.push(chunk))));
    stream.once('end', finish);
    stream.once('close', finish);
    stream.once('error', finish);
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/** Engine form of a moment in milliseconds since the epoch. */
export function engineTime(ms: number): string {
  const whole = Math.floor(ms / 1000);
  return `${whole}.${String(ms - whole * 1000).padStart(3, '0')}000000`;
}
