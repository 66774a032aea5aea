import { describe, expect, it } from 'vitest';
import type { GangwayEvent } from '../../src/events/events.js';
import { describeMix, emptyKindCounts, kindLabel, REQUEST_KINDS, timeoutReason, type KindCounts, type LoadCounts, type LoadResult } from '../../bench/zero-downtime/load.js';
import { mergeCounts } from '../../bench/zero-downtime/report.js';
import { cpuBelow, parseProcStat } from '../../bench/zero-downtime/proc-cpu.js';
import { capacityTable, cpuShare, installTimes, p99BySecond, kindTable, perSecond, tlsCost, tlsCostTable } from '../../bench/zero-downtime/tls-report.js';

/** Latencies 1..n ms times `scale`: p50 and p99 follow from n and scale. */
const kind = (n: number, scale: number, over: Partial<KindCounts> = {}): KindCounts => ({ ...emptyKindCounts(), requests: n, latenciesMs: Array.from({ length: n }, (_, i) => (i + 1) * scale), ...over });

const counts = (byKind: Array<[string, KindCounts]>, over: Partial<LoadCounts> = {}): LoadCounts => ({
  requests: 0, ok: 0, non2xx: 0, socketErrors: 0, badBody: 0, failureKinds: new Map(), servedVersions: new Map(), latenciesMs: [], sentAtMs: [], byKind: new Map(byKind), durationMs: 0, ...over,
});

const result = (hosts: Array<[string, LoadCounts]>): LoadResult => ({ startedAt: 0, byHost: new Map(hosts), shortfallByHost: new Map() });

describe('request shapes', () => {
  it('names each shape, TLS included', () => {
    expect(kindLabel({ method: 'GET', fresh: false })).toBe('GET keep-alive');
    expect(kindLabel({ method: 'POST', fresh: true, tls: true })).toBe('POST https fresh');
  });
  it('tells a request queued in the client from one connecting or sent when it times out', () => {
    expect(timeoutReason({ socket: null })).toBe('timeout, queued in the client for a keep-alive connection');
    expect(timeoutReason({ socket: { connecting: true } })).toBe('timeout, connecting');
    expect(timeoutReason({ socket: { connecting: false } })).toBe('timeout');
  });
  it('says the TLS share only when there is one (the plain mix reads as before)', () => {
    expect(describeMix(REQUEST_KINDS)).not.toContain('TLS');
    expect(describeMix([{ method: 'GET', fresh: false }, { method: 'GET', fresh: true, tls: true }])).toContain('1 of 2 over TLS');
  });
});

describe('the HTTPS bench report', () => {
  it('merges the shapes of every host', () => {
    const merged = mergeCounts(result([
      ['vm1', counts([['GET https fresh', kind(2, 1, { failed: 1, resumed: 1 })]])],
      ['vm2', counts([['GET https fresh', kind(3, 10)], ['GET fresh', kind(1, 5)]])],
    ])).byKind;
    expect(merged.get('GET https fresh')).toEqual({ requests: 5, failed: 1, resumed: 1, latenciesMs: [1, 2, 10, 20, 30] });
    expect(merged.get('GET fresh')?.requests).toBe(1);
  });

  it('takes what TLS adds per kind of connection from the same load, and skips a kind missing on one side', () => {
    const byKind = new Map([
      ['GET keep-alive', kind(100, 1)],
      ['GET https keep-alive', kind(100, 2)],
      ['GET fresh', kind(100, 3)],
    ]);
    expect(tlsCost(byKind)).toEqual([{ connection: 'keep-alive', httpP50: 50, httpsP50: 100, httpP99: 99, httpsP99: 198 }]);
    byKind.set('GET https fresh', kind(100, 5));
    const fresh = tlsCost(byKind)[1]!;
    expect(fresh).toEqual({ connection: 'fresh', httpP50: 150, httpsP50: 250, httpP99: 297, httpsP99: 495 });
    expect(tlsCostTable(tlsCost(byKind)).split('\n')[3]).toBe('| fresh | 150.0 | 250.0 | **+100.0** | 297.0 | 495.0 | +198.0 |');
  });

  it('rows per phase and shape, failures in bold, resumed sessions only for fresh HTTPS', () => {
    const table = kindTable([{ phase: 'p', load: result([['vm1', counts([['GET https fresh', kind(4, 1, { failed: 2 })], ['GET fresh', kind(2, 1)], ['GET https keep-alive', kind(1, 1, { resumed: 1 })]])]]) }]);
    expect(table.split('\n').slice(2)).toEqual([
      '| p | GET fresh | 2 | 0 | 1.0 | 2.0 | 2.0 | - |',
      '| p | GET https fresh | 4 | **2** | 2.0 | 4.0 | 4.0 | 0 |',
      '| p | GET https keep-alive | 1 | 0 | 1.0 | 1.0 | 1.0 | - |',
    ]);
  });

  it('counts capacity as answered requests per second of the loop', () => {
    const c = counts([], { requests: 510, ok: 500, non2xx: 10, durationMs: 2000, latenciesMs: [4, 8] });
    expect(perSecond(c)).toBe(250);
    expect(perSecond(counts([]))).toBe(0);
    expect(capacityTable([{ host: 'vm1', kind: 'GET https fresh', concurrency: 8, counts: c, clientCpuMs: 1800, proxyCpuMs: 255, loadAvg: '1 2 3' }]).split('\n')[2]).toBe('| vm1 | GET https fresh | 8 | 2.0 | 510 | 10 | **250** | 4.0 | 8.0 | 8.0 | 0.90 | 3.53 | 0.13 | **0.50** | 1 2 3 |');
    expect(cpuShare(100, { durationMs: 0, requests: 0 })).toEqual({ cores: 0, msPerRequest: 0 });
  });
});

describe('latency by second of sending', () => {
  it('buckets by the second after the operation started (the lead before it is negative)', () => {
    // Sent at 0.5 s and 0.9 s of the load (lead 1 s: second -1), at 1.2 s (second 0), at 3.0 s (second 2).
    expect(p99BySecond({ sentAtMs: [500, 900, 1200, 3000], latenciesMs: [10, 30, 7, 400] }, 1000)).toBe('-1: 30, 0: 7, 2: 400');
    expect(p99BySecond({ sentAtMs: [], latenciesMs: [] }, 1000)).toBe('');
  });
});

describe('when the certificate went in', () => {
  it('reads gangway\'s certificate logs, on the clock of the failure notes', () => {
    const log = (ts: number, host: string, message: string) => ({ type: 'log', ts, host, level: 'info', message }) as unknown as GangwayEvent;
    expect(installTimes([log(10_500, 'vm1', 'certificate shop.test renewed'), log(10_600, 'vm1', 'hello-web-2.0.0 is already live'), log(12_000, 'vm2', 'certificate shop.test added')], 1000)).toBe('on vm1 at 9.50 s, on vm2 at 11.00 s');
    expect(installTimes([], 0)).toBe('');
  });
});

describe('CPU of one host\'s processes from /proc', () => {
  it('parses a stat line whose comm has spaces and parentheses', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    expect(parseProcStat('42 (a (b) c) S 7 42 42 0 -1 4194560 10 0 0 0 250 50 0 0 20 0 1 0')).toEqual({ pid: 42, comm: 'a (b) c', ppid: 7, cpuMs: 3000 });
    expect(parseProcStat('garbage')).toBeUndefined();
  });
  it('sums the named processes below a root only', () => {
    const p = (pid: number, ppid: number, comm: string, cpuMs: number) => ({ pid, ppid, comm, cpuMs });
    const stats = [p(10, 1, 'init', 1), p(11, 10, 'haproxy', 100), p(12, 11, 'haproxy', 30), p(13, 10, 'sshd', 5), p(20, 1, 'init', 1), p(21, 20, 'haproxy', 999)];
    expect(cpuBelow(stats, 10, 'haproxy')).toBe(130);
    expect(cpuBelow(stats, 20, 'haproxy')).toBe(999);
    expect(cpuBelow(stats, 99, 'haproxy')).toBe(0);
  });
});
