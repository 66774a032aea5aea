// A gate decides whether a freshly started container may receive traffic. Each gate is one file;
// gates.ts is the façade. Gates report results instead of throwing, so the caller can show every
// failure (all uptests, the health log) before it decides what to undo.
import type { Events } from '../events/events.js';
import type { Host } from '../hosts/host.js';

export interface GateTarget {
  host: Host;
  /** Name (or id) of the container under test. */
  container: string;
  role?: string;
}

export interface GateOptions {
  events?: Events;
  /** Stop waiting when aborted (SIGINT, another host failed). */
  signal?: AbortSignal;
}

export interface GateResult {
  gate: string;
  passed: boolean;
  /** One line: what happened. */
  message: string;
  /** Lines worth showing on failure: container logs, health probe output, uptest output. */
  details: string[];
  durationMs: number;
}

export interface Gate {
  readonly name: string;
  check(target: GateTarget, opts?: GateOptions): Promise<GateResult>;
}
