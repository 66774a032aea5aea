// The façade: the one entry point users need to say when a container is ready.
import { AllWait } from './all-wait.js';
import { HealthWait, type HealthWaitOptions } from './health-wait.js';
import { HttpWait, type HttpWaitOptions } from './http-wait.js';
import { LogWait, type LogWaitOptions } from './log-wait.js';
import { PortWait, type PortWaitOptions } from './port-wait.js';
import type { WaitStrategy } from './wait-strategy.js';

export const wait = {
  /** A log line matching `pattern`. */
  forLog: (pattern: RegExp, options: Omit<LogWaitOptions, 'inOrder'> = {}): WaitStrategy => new LogWait([pattern], options),
  /** Lines matching every pattern: in any order, or with `inOrder` one after another. */
  forLogs: (patterns: readonly RegExp[], options: LogWaitOptions = {}): WaitStrategy => new LogWait(patterns, options),
  /** An HTTP response with the expected status (default 200) on `path` of the published port. */
  forHttp: (path: string, options: HttpWaitOptions = {}): WaitStrategy => new HttpWait(path, options),
  /** Docker's HEALTHCHECK status "healthy" (fails at once on "unhealthy"). */
  forHealthy: (options: HealthWaitOptions = {}): WaitStrategy => new HealthWait(options),
  /** A TCP port listening inside the container and reachable through its published port. */
  forPort: (port?: number, options: PortWaitOptions = {}): WaitStrategy => new PortWait(port, options),
  /** All of these, concurrently. */
  all: (waits: readonly WaitStrategy[], options: { timeoutMs?: number } = {}): WaitStrategy => new AllWait(waits, options),
};
