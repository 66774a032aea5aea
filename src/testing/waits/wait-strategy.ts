// What a wait is: something that settles once a started container is ready. Each kind lives in
// its own file; `wait.ts` is the façade users import. Runner-level concerns (the timeout, a
// container that exits early, the logs in the error) are handled once, in run-wait.ts.
import type { ContainerInspectInfo } from 'dockerode';
import type { LogBuffer } from '../log-buffer.js';

/** A Docker event about the container (die, health_status: healthy, ...). */
export interface ContainerEvent {
  action: string;
  attributes: Readonly<Record<string, string>>;
}

export interface ExecOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** What a wait may look at: the container's logs, events, ports, and a way to look inside. */
export interface WaitTarget {
  readonly name: string;
  readonly id: string;
  readonly logs: LogBuffer;
  /** Host port on 127.0.0.1 for a container port; throws when that port is not published. */
  hostPort(port: number | string): number;
  firstHostPort(): number;
  onEvent(listener: (event: ContainerEvent) => void): () => void;
  inspect(): Promise<ContainerInspectInfo>;
  exec(cmd: readonly string[]): Promise<ExecOutput>;
}

export interface WaitStrategy {
  /** For error messages: "log /ready/", "HTTP 200 on :8080/health". */
  readonly description: string;
  /** Give up after this long; the runner fails with the container's last log lines. */
  readonly timeoutMs: number;
  /**
   * Settles when ready. Rejects only for a definite failure (e.g. "unhealthy"); otherwise it
   * keeps trying until `signal` aborts (timeout or early exit), then stops all its work.
   */
  waitUntilReady(target: WaitTarget, signal: AbortSignal): Promise<void>;
}

export const DEFAULT_WAIT_TIMEOUT_MS = 30_000;

/** Resolves when the signal aborts; used to stop retry loops and listeners. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
