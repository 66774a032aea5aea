// A container's log lines as they arrive from the engine's follow stream: waits scan what is
// there and subscribe to what comes next, so nothing is polled and nothing is missed.

export type LogStreamName = 'stdout' | 'stderr';

export interface LogLine {
  stream: LogStreamName;
  text: string;
}

export type LogListener = (line: LogLine) => void;

// Enough for any test's output; a runaway container must not eat the test runner's memory.
const MAX_LINES = 20_000;

export class LogBuffer {
  private readonly kept: LogLine[] = [];
  private dropped = 0;
  private readonly partial: Record<LogStreamName, string> = { stdout: '', stderr: '' };
  private readonly listeners = new Set<LogListener>();
  private endedFlag = false;
  private resolveEnded!: () => void;
  /** Settles when the follow stream ended (the container stopped, or the follower was closed). */
  readonly ended: Promise<void> = new Promise((resolve) => { this.resolveEnded = resolve; });

  push(stream: LogStreamName, chunk: string): void {
    const text = this.partial[stream] + chunk;
    const pieces = text.split('\n');
    this.partial[stream] = pieces.pop() ?? '';
    for (const piece of pieces) this.add({ stream, text: piece.replace(/\r$/, '') });
  }

  end(): void {
    if (this.endedFlag) return;
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream]) this.add({ stream, text: this.partial[stream] });
      this.partial[stream] = '';
    }
    this.endedFlag = true;
    this.resolveEnded();
  }

  get isEnded(): boolean {
    return this.endedFlag;
  }

  /** Every line kept so far (the oldest are dropped past 20,000). */
  lines(): readonly LogLine[] {
    return this.kept;
  }

  /** Number of lines ever seen, including dropped ones: a position that stays valid. */
  get count(): number {
    return this.dropped + this.kept.length;
  }

  lastLines(n: number): string[] {
    return this.kept.slice(-n).map((l) => l.text);
  }

  onLine(listener: LogListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  private add(line: LogLine): void {
    this.kept.push(line);
    if (this.kept.length > MAX_LINES) {
      this.kept.shift();
      this.dropped++;
    }
    for (const l of [...this.listeners]) l(line);
  }
}
