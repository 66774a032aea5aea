// Ready when every wait of a set is ready; they run side by side, not one after another.
import { DEFAULT_WAIT_TIMEOUT_MS, type WaitStrategy, type WaitTarget } from './wait-strategy.js';

export class AllWait implements WaitStrategy {
  readonly description: string;
  readonly timeoutMs: number;

  constructor(private readonly waits: readonly WaitStrategy[], options: { timeoutMs?: number } = {}) {
    this.description = waits.map((w) => w.description).join(' and ');
    this.timeoutMs = options.timeoutMs ?? Math.max(DEFAULT_WAIT_TIMEOUT_MS, ...waits.map((w) => w.timeoutMs));
  }

  async waitUntilReady(target: WaitTarget, signal: AbortSignal): Promise<void> {
    await Promise.all(this.waits.map((w) => w.waitUntilReady(target, signal)));
  }
}
