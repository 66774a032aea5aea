// Shared retry loop for waits that must ask (HTTP, TCP): one probe at a time, the next one
// triggered by a new log line or by a backoff timer, whichever comes first.
import { aborted, type WaitTarget } from './wait-strategy.js';

// Probes are cheap (a loopback connect), and most containers get ready within a second or two:
// probe often while that is likely, then back off so a slow start does not hammer the server.
const FAST_DELAY_MS = 10;
const FAST_PHASE_MS = 2_000;
const MAX_DELAY_MS = 250;
// A server that logs every request (our probes included) must not turn log-triggered probes
// into a busy loop: only this many probes may be brought forward by log lines.
const MAX_LOG_TRIGGERED_PROBES = 20;

export function probeLoop(target: WaitTarget, signal: AbortSignal, probe: () => Promise<boolean>): Promise<void> {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    let slowDelayMs = FAST_DELAY_MS;
    const nextDelayMs = () => {
      if (Date.now() - startedAt < FAST_PHASE_MS) return FAST_DELAY_MS;
      slowDelayMs = Math.min(MAX_DELAY_MS, Math.ceil(slowDelayMs * 1.5));
      return slowDelayMs;
    };
    let timer: NodeJS.Timeout | undefined;
    let running = false;
    let finished = false;
    let logTriggersLeft = MAX_LOG_TRIGGERED_PROBES;

    const finish = () => {
      finished = true;
      if (timer) clearTimeout(timer);
      stopLogs();
    };
    const attempt = () => {
      if (finished || signal.aborted || running) return;
      running = true;
      if (timer) { clearTimeout(timer); timer = undefined; }
      probe().then(
        (ok) => {
          running = false;
          if (ok) { finish(); resolve(); return; }
          if (finished || signal.aborted) return;
          timer = setTimeout(attempt, nextDelayMs());
        },
        (err: unknown) => { running = false; finish(); reject(err); },
      );
    };
    const stopLogs = target.logs.onLine(() => {
      // Only a probe waiting on its timer is brought forward; a running one is left alone.
      if (timer && logTriggersLeft > 0) { logTriggersLeft--; attempt(); }
    });
    void aborted(signal).then(finish);
    attempt();
  });
}
