// Ready when Docker's HEALTHCHECK reports healthy: driven by the engine's health_status events,
// with one inspect for a status reached before we listened.
import { operationError } from '../../errors.js';
import { DEFAULT_WAIT_TIMEOUT_MS, type WaitStrategy, type WaitTarget } from './wait-strategy.js';

export interface HealthWaitOptions {
  timeoutMs?: number;
}

export class HealthWait implements WaitStrategy {
  readonly description = 'Docker health status "healthy"';
  readonly timeoutMs: number;

  constructor(options: HealthWaitOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  }

  waitUntilReady(target: WaitTarget, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (status: string) => {
        if (settled) return;
        if (status === 'healthy') { settled = true; stop(); resolve(); }
        else if (status === 'unhealthy') {
          settled = true;
          stop();
          void lastHealthOutput(target).then((output) =>
            reject(operationError(`container ${target.name} became unhealthy`, { step: 'testing.wait', details: output })),
          );
        }
      };
      // Subscribe first, then inspect: a status change between the two is seen either way.
      const stop = target.onEvent((e) => {
        if (e.action.startsWith('health_status')) settle(e.action.slice(e.action.indexOf(':') + 1).trim());
      });
      signal.addEventListener('abort', stop, { once: true });
      target.inspect().then(
        (info) => {
          const test = info.Config?.Healthcheck?.Test;
          if (!test || test.length === 0 || test[0] === 'NONE') {
            settled = true;
            stop();
            reject(operationError(`container ${target.name} has no HEALTHCHECK to wait for`, {
              step: 'testing.wait',
              hint: 'add HEALTHCHECK to the image or `healthcheck` to the definition, or use another wait',
            }));
            return;
          }
          const status = info.State?.Health?.Status;
          if (status) settle(status);
        },
        (err: unknown) => { if (!settled) { settled = true; stop(); reject(err); } },
      );
    });
  }
}

async function lastHealthOutput(target: WaitTarget): Promise<string[]> {
  try {
    const info = await target.inspect();
    const log = (info.State?.Health as { Log?: Array<{ ExitCode: number; Output: string }> } | undefined)?.Log ?? [];
    return log.slice(-3).map((l) => `health check exit ${l.ExitCode}: ${l.Output.trim()}`);
  } catch {
    return [];
  }
}
