// Typed progress events: every command reports what it does per host and step through these,
// and a renderer (TTY, plain, NDJSON) decides how they look.

/**
 * Shorter values cannot be redacted without hiding ordinary text ("abc" inside every word that
 * has it), so the config loader refuses them rather than leave them showing; see docs/secrets.md.
 * Defined here, where redaction happens, so the event bus imports nothing of the config.
 */
export const MIN_SECRET_LENGTH = 4;

export type EventLevel = 'info' | 'warn' | 'error';
export type StepStatus = 'start' | 'done' | 'fail' | 'skip';

interface Base {
  /** Milliseconds since the epoch. */
  ts: number;
  host?: string;
  role?: string;
}

/** A step on a host (or global when host is absent) changed status. */
export interface StepEvent extends Base {
  type: 'step';
  step: string;
  status: StepStatus;
  message?: string;
  durationMs?: number;
}

/** A line of human-meaningful output (build output, container logs, uptest output). */
export interface LogEvent extends Base {
  type: 'log';
  level: EventLevel;
  message: string;
  step?: string;
  /** A container's log line (`gangway logs`): which container, which stream. */
  container?: string;
  stream?: 'stdout' | 'stderr';
  /** When the engine recorded the line, RFC 3339 with nanoseconds (`ts` is when gangway saw it). */
  timestamp?: string;
  /** Which of several containers of one role on a host (its version); shown after host and role. */
  instance?: string;
}

/** Structured result data a command produces (hosts check rows, status rows...). */
export interface ResultEvent extends Base {
  type: 'result';
  kind: string;
  data: Record<string, unknown>;
}

/** Command-level end: ok or not, and the summary line. */
export interface DoneEvent extends Base {
  type: 'done';
  ok: boolean;
  command: string;
  message: string;
  exitCode: number;
}

export type GangwayEvent = StepEvent | LogEvent | ResultEvent | DoneEvent;

/** Distributive Omit, so callers can pass any event variant without its timestamp. */
export type EventInput = GangwayEvent extends infer E ? (E extends GangwayEvent ? Omit<E, 'ts'> : never) : never;

export type Listener = (event: GangwayEvent) => void;

export class Events {
  private readonly listeners: Listener[] = [];
  /** Strings that must never be shown; every text field is scrubbed before it leaves. */
  private readonly secrets = new Set<string>();

  on(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  addSecret(value: string | undefined): void {
    // Very short values would redact ordinary words. The config loader refuses secrets that
    // short (exit 2, naming them), so no secret of a config is ever left out here.
    if (value && value.length >= MIN_SECRET_LENGTH) this.secrets.add(value);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('[redacted]');
    return out;
  }

  emit(event: EventInput): void {
    const full = this.redactValue({ ...event, ts: Date.now() } as GangwayEvent);
    for (const l of this.listeners) l(full);
  }

  step(step: string, status: StepStatus, opts: { host?: string; role?: string; message?: string; durationMs?: number } = {}): void {
    this.emit({ type: 'step', step, status, ...opts });
  }

  log(message: string, opts: { level?: EventLevel; host?: string; role?: string; step?: string } & Pick<LogEvent, 'container' | 'stream' | 'timestamp' | 'instance'> = {}): void {
    const { level = 'info', ...rest } = opts;
    this.emit({ type: 'log', level, message, ...rest });
  }

  result(kind: string, data: Record<string, unknown>, opts: { host?: string; role?: string } = {}): void {
    this.emit({ type: 'result', kind, data, ...opts });
  }

  /**
   * A copy of plain data (strings, arrays, plain objects) with every string redacted. For output
   * that does not travel as events (verify's JUnit and TAP reports): redacting the data before it
   * is rendered also catches a secret the renderer would have escaped beyond recognition.
   */
  redactValue<T>(value: T): T {
    if (this.secrets.size === 0) return value;
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactValue(v)) as T;
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.redactValue(v);
      return out as T;
    }
    return value;
  }
}
