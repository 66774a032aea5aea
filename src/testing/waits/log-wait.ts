// Ready when log lines match: every pattern of a set in any order, or the patterns in sequence.
import type { LogBuffer } from '../log-buffer.js';
import { DEFAULT_WAIT_TIMEOUT_MS, type WaitStrategy, type WaitTarget } from './wait-strategy.js';

export interface LogWaitOptions {
  /** Patterns must match in this order, each on a later line than the previous one. */
  inOrder?: boolean;
  /** Only lines from this position on count (see LogBuffer.count); default: all lines. */
  fromLine?: number;
  timeoutMs?: number;
}

export class LogWait implements WaitStrategy {
  readonly description: string;
  readonly timeoutMs: number;

  constructor(private readonly patterns: readonly RegExp[], private readonly options: LogWaitOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    const shown = patterns.map(String).join(', ');
    this.description = patterns.length === 1 ? `log ${shown}` : `logs ${options.inOrder ? 'in order' : 'all of'} ${shown}`;
  }

  waitUntilReady(target: WaitTarget, signal: AbortSignal): Promise<void> {
    return waitForLines(target.logs, this.patterns, this.options, signal).then(() => undefined);
  }
}

/** Resolves with the matching lines (one per pattern) once all matched. */
export function waitForLines(logs: LogBuffer, patterns: readonly RegExp[], options: Pick<LogWaitOptions, 'inOrder' | 'fromLine'>, signal?: AbortSignal): Promise<string[]> {
  const matched: Array<string | undefined> = patterns.map(() => undefined);
  let next = 0; // the pattern an in-order wait needs next
  const test = (re: RegExp, text: string) => { re.lastIndex = 0; return re.test(text); };
  const feed = (text: string): boolean => {
    if (options.inOrder) {
      if (next < patterns.length && test(patterns[next]!, text)) matched[next++] = text;
      return next === patterns.length;
    }
    patterns.forEach((re, i) => { if (matched[i] === undefined && test(re, text)) matched[i] = text; });
    return matched.every((m) => m !== undefined);
  };

  return new Promise((resolve) => {
    const skip = Math.max(0, (options.fromLine ?? 0) - (logs.count - logs.lines().length));
    const existing = logs.lines().slice(skip);
    for (const line of existing) if (feed(line.text)) return resolve(matched as string[]);
    const stop = logs.onLine((line) => {
      if (feed(line.text)) { stop(); resolve(matched as string[]); }
    });
    signal?.addEventListener('abort', stop, { once: true });
  });
}
