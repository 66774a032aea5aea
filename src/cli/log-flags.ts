// The flags `gangway logs` and `gangway accessory logs` share, checked before anything connects
// (exit 2 naming the flag), and the one way a log line becomes an event.
import { parseDurationMs } from '../config/schema.js';
import { engineTime, type LogLine, type LogQuery } from '../docker/log-lines.js';
import { usageError } from '../errors.js';
import type { Events } from '../events/events.js';

export interface LogFlags {
  since?: string;
  lines?: string;
  grep?: string;
  ignoreCase?: boolean;
}

const RFC3339_RE = /^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)$/;
const SINCE_EXPECTED = 'expected a duration such as 30s, 10m or 2h, or an RFC 3339 time such as 2025-01-31T09:30:00Z';

/**
 * `--since`: a duration back from `nowMs` (this machine's clock, as `docker logs` does) or an
 * RFC 3339 time, in the engine's form (unix seconds and nanoseconds, which keeps a timestamp
 * copied from `--json` output exact).
 */
export function parseSince(text: string, nowMs: number): string {
  const m = RFC3339_RE.exec(text.trim());
  if (m) {
    const [, y, mo, d, h, mi, s, fraction = '', zone] = m;
    const whole = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${zone!.toUpperCase()}`);
    const daysInMonth = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
    if (Number.isNaN(whole) || Number(d) < 1 || Number(d) > daysInMonth) throw usageError(`--since ${text}: not a valid date and time`, { hint: SINCE_EXPECTED });
    if (fraction.length > 9) throw usageError(`--since ${text}: at most 9 digits after the seconds (nanoseconds)`);
    return `${Math.floor(whole / 1000)}.${fraction.padEnd(9, '0')}`;
  }
  let ms: number;
  try {
    ms = parseDurationMs(text);
  } catch {
    throw usageError(`--since ${text}: ${SINCE_EXPECTED}`);
  }
  return engineTime(nowMs - ms);
}

/** `--lines`: a whole number, or `all`. */
export function parseLines(text: string): number | undefined {
  if (text.trim() === 'all') return undefined;
  if (!/^\d+$/.test(text.trim())) throw usageError(`--lines ${text}: expected a whole number of lines (0 or more) or all`);
  return Number(text.trim());
}

/** `--grep`: a JavaScript regular expression; `--ignore-case` adds the i flag. */
export function parseGrep(pattern: string, ignoreCase = false): RegExp {
  try {
    return new RegExp(pattern, ignoreCase ? 'i' : '');
  } catch (err) {
    throw usageError(`--grep ${pattern}: not a valid regular expression (${(err as Error).message.replace(/^Invalid regular expression: /, '')})`, {
      hint: 'JavaScript syntax; escape ( [ { . * + ? with \\ to match them literally',
    });
  }
}

/** Every log flag checked at once, before the config is read or a host connected. */
export function logQueryOf(flags: LogFlags, nowMs: number = Date.now()): LogQuery {
  if (flags.ignoreCase && flags.grep === undefined) throw usageError('--ignore-case needs --grep');
  const lines = parseLines(flags.lines ?? '100');
  return {
    ...(flags.since !== undefined ? { since: parseSince(flags.since, nowMs) } : {}),
    ...(lines !== undefined ? { lines } : {}),
    ...(flags.grep !== undefined ? { grep: parseGrep(flags.grep, flags.ignoreCase) } : {}),
  };
}

export interface LogSource {
  host: string;
  container: string;
  role?: string;
  /** Set when one role runs several containers on the host (during a deploy): their version. */
  instance?: string;
  /** For lines that belong to no role (an accessory's). */
  step?: string;
}

/** One log line as one event: a prefixed line on a terminal, an NDJSON object with --json. */
export function emitLogLine(events: Events, source: LogSource, line: LogLine): void {
  events.log(line.text, { ...source, ...(line.stream ? { stream: line.stream } : {}), ...(line.timestamp ? { timestamp: line.timestamp } : {}) });
}
