// The pure parts of canary deploys: a step as weights, counters from `show stat`, the judge, the
// host record, and the config's `canary` block.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { figuresOf, judge, type Limits, type VersionFigures } from '../../src/deploy/canary-analysis.js';
import { canaryShare, stepSplit } from '../../src/deploy/canary-plan.js';
import { parseServerCounters, parseSlowCounts, withSlowCounts, type ServerCounters } from '../../src/proxy/counters.js';
import { canarySchema } from '../../src/config/schema.js';
import { canaryDecisionPath, canaryRecordPath, parseCanaryDecision, parseCanaryRecord, removeCanaryRecordCommand, writeCanaryDecisionCommand, writeCanaryRecordCommand } from '../../src/state/canary.js';

describe('stepSplit', () => {
  it('10% beside one old server is 10 : 90, and the share it gives is 10%', () => {
    const s = stepSplit(10, 'hello-web-2', ['hello-web-1']);
    expect(s).toEqual({ canary: { name: 'hello-web-2', weight: 10 }, baseline: [{ name: 'hello-web-1', weight: 90 }] });
    expect(canaryShare({ canaryWeight: s.canary.weight, baselineWeights: s.baseline.map((b) => b.weight) })).toBeCloseTo(0.1);
  });

  it('keeps the share beside several old servers and within HAProxy\'s 256', () => {
    for (const [p, olds] of [[50, 3], [99, 2], [12.5, 1], [1, 4]] as const) {
      const s = stepSplit(p, 'new', Array.from({ length: olds }, (_, i) => `old${i}`));
      const share = canaryShare({ canaryWeight: s.canary.weight, baselineWeights: s.baseline.map((b) => b.weight) });
      expect(Math.abs(share - p / 100)).toBeLessThan(0.01);
      for (const w of [s.canary.weight, ...s.baseline.map((b) => b.weight)]) expect(w >= 1 && w <= 256 && Number.isInteger(w)).toBe(true);
    }
  });

  it('refuses 0% and 100% (100% is a switch, not a weight)', () => {
    expect(() => stepSplit(0, 'n', ['o'])).toThrow(/above 0%/);
    expect(() => stepSplit(100, 'n', ['o'])).toThrow(/below 100%/);
  });
});

// Header as HAProxy 2.6.12 prints it (cut after the columns read), one row per server.
const HEADER = '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max';
function row(px: string, sv: string, f: { econ?: number; eresp?: number; h2?: number; h4?: number; h5?: number; rtime?: number; rtimeMax?: number }): string {
  const cols = HEADER.slice(2).split(',');
  const v: Record<string, string | number> = { pxname: px, svname: sv, econ: f.econ ?? 0, eresp: f.eresp ?? 0, hrsp_2xx: f.h2 ?? 0, hrsp_4xx: f.h4 ?? 0, hrsp_5xx: f.h5 ?? 0, rtime: f.rtime ?? 0, rtime_max: f.rtimeMax ?? 0 };
  return cols.map((c) => String(v[c] ?? '')).join(',');
}

describe('parseServerCounters', () => {
  const text = [HEADER, row('fe_http', 'FRONTEND', { h2: 999 }), row('gw_slot_1', 'hello-web-1', { h2: 90, h4: 3, h5: 2, econ: 1, rtime: 4, rtimeMax: 30 }), row('gw_slot_1', 'hello-web-2', { h2: 8, h5: 2, eresp: 1, rtime: 300 }), row('gw_slot_1', 'BACKEND', { h2: 98 }), row('gw_slot_2', 'other', { h2: 5 })].join('\n');

  it('reads the backend\'s server rows only, responses summed over every status class', () => {
    const c = parseServerCounters(text, 'gw_slot_1');
    expect(c.map((x) => x.name)).toEqual(['hello-web-1', 'hello-web-2']);
    expect(c[0]).toEqual({ name: 'hello-web-1', responses: 95, serverErrors: 2, connectionErrors: 1, responseErrors: 0, responseTimeMs: 4, responseTimeMaxMs: 30, slowResponses: 0 });
    expect(c[1]).toMatchObject({ responses: 10, serverErrors: 2, responseErrors: 1, responseTimeMs: 300 });
  });
});

describe('parseServerCounters on real replies', () => {
  const fixture = (name: string) => readFileSync(new URL(`./fixtures/haproxy/${name}`, import.meta.url), 'utf8');
  it.each(['2.6-switched.stat.csv', '3.0-switched.stat.csv'])('%s: the same columns on HAProxy 2.6.12 and 3.0.11', (name) => {
    const c = parseServerCounters(fixture(name), 'be_hello');
    expect(c.map((x) => x.name)).toEqual(['hello-web-v1', 'hello-web-v2']);
    // One 2xx each in these captures (the check's and the test's request), no errors.
    for (const x of c) expect(x).toMatchObject({ responses: 1, serverErrors: 0, connectionErrors: 0, responseErrors: 0 });
  });
});

const counters = (name: string, responses: number, serverErrors: number, responseTimeMs = 5, extra: Partial<ServerCounters> = {}): ServerCounters => ({ name, responses, serverErrors, connectionErrors: 0, responseErrors: 0, responseTimeMs, responseTimeMaxMs: 0, slowResponses: 0, ...extra });

describe('parseSlowCounts', () => {
  const fixture = (name: string) => readFileSync(new URL(`./fixtures/haproxy/${name}`, import.meta.url), 'utf8');

  it.each(['2.6.12', '3.0.11'])('reads each server\'s gpc0 from a real `show table` of HAProxy %s', (version) => {
    // Captured after three 200 ms and three 0 ms answers, alternating between the two servers, bound 100 ms.
    const slow = parseSlowCounts(fixture(`show-table-${version}.txt`));
    expect([...slow].sort()).toEqual([['hello-web-v1', 3], ['hello-web-v2', 0]]);
    const merged = withSlowCounts([counters('hello-web-v1', 3, 0), counters('hello-web-v3', 1, 0)], slow);
    expect(merged.map((c) => c.slowResponses)).toEqual([3, 0]);
  });

  it('an empty table is no slow response', () => {
    expect(parseSlowCounts('# table: be_slot_01, type: string, size:1024, used:0\n\n').size).toBe(0);
  });
});

describe('figuresOf', () => {
  it('counts what happened between the two readings, summed over hosts, errors of every kind', () => {
    const f = figuresOf([
      { start: counters('a', 100, 1), now: counters('a', 150, 6, 10, { connectionErrors: 2 }) },
      { start: counters('a', 10, 0), now: counters('a', 60, 0, 20) },
    ]);
    // 50 + 2 and 50 requests; 5 + 2 errors; response time weighted by requests.
    expect(f.requests).toBe(102);
    expect(f.errors).toBe(7);
    expect(f.errorRate).toBeCloseTo(7 / 102);
    expect(f.responseTimeMs).toBe(Math.round((52 * 10 + 50 * 20) / 102));
  });

  it('counts the step\'s slow responses; a table that went down counts from zero; never more slow than answered', () => {
    expect(figuresOf([
      { start: counters('a', 100, 0, 5, { slowResponses: 4 }), now: counters('a', 200, 0, 5, { slowResponses: 7 }) },
      { start: counters('a', 50, 0, 5, { slowResponses: 9 }), now: counters('a', 80, 0, 5, { slowResponses: 2 }) },
    ]).slow).toBe(3 + 2);
    // A server deleted and added again: `show stat` starts over, the table (by name) does not.
    expect(figuresOf([{ now: counters('n', 10, 0, 5, { slowResponses: 40 }) }]).slow).toBe(10);
  });

  it('a server added since the start counts from zero, and so does one whose proxy restarted', () => {
    expect(figuresOf([{ now: counters('n', 30, 3) }]).requests).toBe(30);
    expect(figuresOf([{ start: counters('n', 500, 50), now: counters('n', 30, 3) }])).toMatchObject({ requests: 30, errors: 3 });
  });
});

const LIMITS: Limits = { interval: 10_000, max_error_rate: 0.01, max_response_time: 200, min_requests: 20 };
const fig = (requests: number, errors: number, responseTimeMs = 5, slow = 0): VersionFigures => ({ requests, errors, errorRate: requests ? errors / requests : 0, responseTimeMs, slow });

describe('judge', () => {
  it('aborts as soon as enough requests show an error rate worse than the margin, before the interval ends', () => {
    const j = judge({ canary: fig(25, 5), baseline: fig(225, 0), elapsedMs: 3000, limits: LIMITS });
    expect(j.verdict).toBe('abort');
    expect(j.reasons.join()).toMatch(/error rate 20\.0% \(5 of 25\) against 0\.00%/);
  });

  it('compares with the old version: the same error rate as the old one is not worse', () => {
    expect(judge({ canary: fig(100, 5), baseline: fig(900, 45), elapsedMs: 10_000, limits: LIMITS }).verdict).toBe('promote');
    expect(judge({ canary: fig(100, 7), baseline: fig(900, 45), elapsedMs: 10_000, limits: LIMITS }).verdict).toBe('abort');
  });

  it('aborts a canary slower than max_response_time; without the bound, speed is not judged', () => {
    expect(judge({ canary: fig(30, 0, 410), baseline: fig(270, 0, 3), elapsedMs: 4000, limits: LIMITS }).reasons.join()).toMatch(/410 ms .*200 ms bound/);
    const { max_response_time: _unused, ...noBound } = LIMITS;
    expect(judge({ canary: fig(30, 0, 410), baseline: fig(270, 0, 3), elapsedMs: 10_000, limits: noBound }).verdict).toBe('promote');
  });

  it('aborts when more than 1% of the canary\'s responses were slower than max_p99, even with a fast average', () => {
    const p99 = { ...LIMITS, max_response_time: undefined, max_p99: 200 };
    const slow = judge({ canary: fig(300, 0, 40, 9), baseline: fig(2700, 0, 3, 0), elapsedMs: 4000, limits: p99 });
    expect(slow.verdict).toBe('abort');
    expect(slow.reasons.join()).toMatch(/^p99 over 200 ms: 9 of 300 responses slower than 200 ms$/);
    // Exactly 1 % is a p99 at the bound, not over it.
    expect(judge({ canary: fig(300, 0, 40, 3), baseline: fig(2700, 0), elapsedMs: 10_000, limits: p99 }).verdict).toBe('promote');
    expect(judge({ canary: fig(300, 0, 40, 4), baseline: fig(2700, 0), elapsedMs: 10_000, limits: p99 }).verdict).toBe('abort');
    // Without min_requests answered, slow answers are not judged either.
    expect(judge({ canary: fig(10, 0, 40, 10), baseline: fig(90, 0), elapsedMs: 4000, limits: p99 }).verdict).toBe('wait');
  });

  it('waits while the step runs, promotes at its end', () => {
    expect(judge({ canary: fig(30, 0), baseline: fig(270, 0), elapsedMs: 9_999, limits: LIMITS }).verdict).toBe('wait');
    expect(judge({ canary: fig(30, 0), baseline: fig(270, 0), elapsedMs: 10_000, limits: LIMITS }).verdict).toBe('promote');
  });

  it('too little traffic: says so and waits up to interval + judge_timeout, then aborts, never promotes blind', () => {
    const w = judge({ canary: fig(19, 0), baseline: fig(171, 0), elapsedMs: 15_000, limits: LIMITS });
    expect(w.verdict).toBe('wait');
    expect(w.reasons.join()).toMatch(/too little traffic to judge: the new version answered 19 of the 20/);
    expect(judge({ canary: fig(19, 0), baseline: fig(171, 0), elapsedMs: 20_000, limits: LIMITS }).verdict).toBe('abort');
    expect(judge({ canary: fig(19, 0), baseline: fig(171, 0), elapsedMs: 12_000, limits: { ...LIMITS, judge_timeout: 1000 } }).verdict).toBe('abort');
  });
});

describe('canary record', () => {
  const rec = { version: '2.0.0', canary: 'hello-web-2.0.0', baseline: ['hello-web-1.0.0'], percent: 10, startedAt: '2026-01-01T00:00:00.000Z' };

  it('round-trips through the line that writes it (stdin, renamed into place)', () => {
    const c = writeCanaryRecordCommand({ service: 'hello', destination: 'staging' }, rec);
    expect(c.command).toContain('mv -f');
    expect(c.command).toContain(canaryRecordPath({ service: 'hello', destination: 'staging' }));
    expect(parseCanaryRecord(c.stdin!)).toEqual(rec);
  });

  it('a person\'s decision is one word beside the record, removed with it', () => {
    const d = { service: 'hello' };
    expect(writeCanaryDecisionCommand(d, 'abort').command).toContain(canaryDecisionPath(d));
    expect(removeCanaryRecordCommand(d).command).toContain(canaryDecisionPath(d));
    expect(removeCanaryRecordCommand(d).command).toContain(canaryRecordPath(d));
    expect(parseCanaryDecision('promote\n')).toBe('promote');
    expect(parseCanaryDecision('abort')).toBe('abort');
    expect(parseCanaryDecision('')).toBeUndefined();
    expect(parseCanaryDecision('rm -rf')).toBeUndefined();
  });

  it('reads nothing, or something else, as no record', () => {
    expect(parseCanaryRecord('')).toBeUndefined();
    expect(parseCanaryRecord('{"version":1}')).toBeUndefined();
    expect(parseCanaryRecord('not json')).toBeUndefined();
  });
});

describe('config: canary', () => {
  it('has defaults and turns percentages into numbers', () => {
    expect(canarySchema.parse({})).toEqual({ steps: [10, 50], interval: 120_000, max_error_rate: 0.01, min_requests: 20 });
    expect(canarySchema.parse({ steps: ['5%', '25%', '75%'], interval: '30s', max_error_rate: '0.5%', max_response_time: '250ms', judge_timeout: '1m' }))
      .toEqual({ steps: [5, 25, 75], interval: 30_000, max_error_rate: 0.005, max_response_time: 250, min_requests: 20, judge_timeout: 60_000 });
  });

  it('refuses steps that do not grow, 0% or 100%, and rates above 100%', () => {
    expect(canarySchema.safeParse({ steps: ['50%', '10%'] }).error?.issues[0]?.message).toMatch(/must grow/);
    expect(canarySchema.safeParse({ steps: ['100%'] }).success).toBe(false);
    expect(canarySchema.safeParse({ steps: ['0%'] }).success).toBe(false);
    expect(canarySchema.safeParse({ steps: [10] }).success).toBe(false);
    expect(canarySchema.safeParse({ max_error_rate: '120%' }).success).toBe(false);
  });
});
