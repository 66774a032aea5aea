// What users asking GET /version get during a phase: the load (load.ts) checks only GET / and
// the echo, which a release that fails its uptests answers correctly; its bug is on /version.
// A fixed rate per web host on fresh connections, every answer classified, bounded by stop().
import { request } from 'node:http';
import { classifyVersionAnswer, type VersionAnswer } from './kamal-config.js';
import type { LoadTarget } from './load.js';

export interface ProbeCounts {
  requests: number;
  right: number;
  wrong: number;
  failed: number;
  /** Seconds from the probe's start to its first wrong answer. */
  firstWrongS?: number;
}

export interface RunningProbe {
  stop(): Promise<ProbeCounts>;
}

const TIMEOUT_MS = 5000;

function ask(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/version', agent: false, timeout: TIMEOUT_MS, headers: { Connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

export function startVersionProbe(targets: LoadTarget[], ratePerHost: number): RunningProbe {
  const counts: ProbeCounts = { requests: 0, right: 0, wrong: 0, failed: 0 };
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  const send = (port: number) => {
    counts.requests++;
    const p = ask(port).then(({ status, body }) => {
      const answer: VersionAnswer = classifyVersionAnswer(status, body);
      counts[answer]++;
      if (answer === 'wrong') counts.firstWrongS ??= (Date.now() - started) / 1000;
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const timer = setInterval(() => { for (const t of targets) send(t.port); }, 1000 / ratePerHost);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return counts;
    },
  };
}
