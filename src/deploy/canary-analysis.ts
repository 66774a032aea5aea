// The canary's judge. Pure: two readings of the proxies' per-server counters (step start, now),
// summed over every host, become each version's figures for the step, and the figures a verdict.
import type { CanaryConfig } from '../config/schema.js';
import type { ServerCounters } from '../proxy/counters.js';

/** One version's traffic during a step, over every host. */
export interface VersionFigures {
  /** Answers + connection errors + response errors. */
  requests: number;
  /** 5xx + connection errors + response errors. */
  errors: number;
  /** errors / requests (0 without requests). */
  errorRate: number;
  /** HAProxy's average response time (its last 1024 answers), weighted by each host's requests (ms). */
  responseTimeMs: number;
  /** Responses slower than the p99 bound (0 unless it is set and counted). */
  slow: number;
}

export type Verdict = 'promote' | 'abort' | 'wait';

export interface Judgement {
  verdict: Verdict;
  reasons: string[];
  canary: VersionFigures;
  baseline: VersionFigures;
}

export type Limits = Pick<CanaryConfig, 'interval' | 'max_error_rate' | 'max_response_time' | 'max_p99' | 'min_requests' | 'judge_timeout'>;

/** One server on one host: its reading at the step's start (absent for a server added since) and now. */
export interface CounterPair {
  start?: ServerCounters;
  now: ServerCounters;
}

/**
 * A version's figures from its servers' readings. A counter that went down (the proxy restarted,
 * and counts from zero again) counts from zero: what it says now is all since the restart.
 */
export function figuresOf(pairs: CounterPair[]): VersionFigures {
  let requests = 0;
  let errors = 0;
  let weightedTime = 0;
  let slow = 0;
  for (const { start, now } of pairs) {
    const delta = (k: 'responses' | 'serverErrors' | 'connectionErrors' | 'responseErrors' | 'slowResponses') => {
      const d = now[k] - (start?.[k] ?? 0);
      return d < 0 ? now[k] : d;
    };
    const failed = delta('connectionErrors') + delta('responseErrors');
    const n = delta('responses') + failed;
    requests += n;
    errors += delta('serverErrors') + failed;
    weightedTime += n * now.responseTimeMs;
    // The table outlives a server deleted and added again under its name, `show stat` does not:
    // never more slow answers than answers.
    slow += Math.min(delta('slowResponses'), delta('responses'));
  }
  return { requests, errors, errorRate: requests === 0 ? 0 : errors / requests, responseTimeMs: requests === 0 ? 0 : Math.round(weightedTime / requests), slow };
}

/** p99 over the bound <=> more than 1 % of the responses slower than it. */
export const P99_SLOW_SHARE = 0.01;

const pct = (x: number): string => `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%`;

/**
 * Abort as soon as the canary has answered enough requests to be judged and is worse than the old
 * version by more than the limits; promote when the step's interval is over and it is not; wait
 * otherwise. Too few requests is never a promotion: past interval + judge_timeout it is an abort.
 */
export function judge(input: { canary: VersionFigures; baseline: VersionFigures; elapsedMs: number; limits: Limits }): Judgement {
  const { canary, baseline, elapsedMs, limits } = input;
  const out = (verdict: Verdict, reasons: string[]): Judgement => ({ verdict, reasons, canary, baseline });
  const patience = limits.judge_timeout ?? limits.interval;
  if (canary.requests < limits.min_requests) {
    const said = `too little traffic to judge: the new version answered ${canary.requests} of the ${limits.min_requests} requests a judgement needs`;
    if (elapsedMs >= limits.interval + patience) return out('abort', [`${said}, ${Math.round(elapsedMs / 1000)} s into the step: never promoted blind`]);
    return out('wait', [said]);
  }
  const reasons: string[] = [];
  if (canary.errorRate - baseline.errorRate > limits.max_error_rate) {
    reasons.push(`error rate ${pct(canary.errorRate)} (${canary.errors} of ${canary.requests}) against ${pct(baseline.errorRate)} for the old version: more than ${pct(limits.max_error_rate)} worse`);
  }
  if (limits.max_p99 !== undefined && canary.slow > P99_SLOW_SHARE * canary.requests) {
    reasons.push(`p99 over ${limits.max_p99} ms: ${canary.slow} of ${canary.requests} responses slower than ${limits.max_p99} ms`);
  }
  if (limits.max_response_time !== undefined && canary.responseTimeMs > limits.max_response_time) {
    reasons.push(`average response time ${canary.responseTimeMs} ms (old version ${baseline.responseTimeMs} ms): over the ${limits.max_response_time} ms bound`);
  }
  if (reasons.length > 0) return out('abort', reasons);
  if (elapsedMs < limits.interval) return out('wait', [`not worse so far: ${pct(canary.errorRate)} errors, ${canary.responseTimeMs} ms`]);
  const p99 = limits.max_p99 === undefined ? '' : `, ${canary.slow} responses slower than ${limits.max_p99} ms`;
  return out('promote', [`not worse: error rate ${pct(canary.errorRate)} against ${pct(baseline.errorRate)}, average response time ${canary.responseTimeMs} ms against ${baseline.responseTimeMs} ms${p99}, over ${canary.requests} requests`]);
}
