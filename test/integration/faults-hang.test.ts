// Issue 5, scenario 7: slow and hanging things end at their timeout with a message naming what
// hung, and the old version keeps serving: a health endpoint that never answers (examples/hello
// VARIANT=hangs: /up is a FIFO), an uptest that never exits (VARIANT=uptest-hangs), and a shell
// command over SSH that blocks (the lock's details file replaced by a FIFO on the primary host).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { lockPath } from '../../src/state/lock.js';
import { gangway, HELLO, onHost, resetHosts } from './helpers/deploy.js';
import { convergedOn, faultProject, settledTruth, underFaultLoad } from './helpers/faults.js';

const info = inject('sandbox');
const REPO = 'faults-hang/hello';
let project: string;
const run = (args: string[], timeoutMs = 150_000) => gangway(args, { cwd: project, timeoutMs });
const measured: string[] = [];

describe('hanging things end at their timeout', () => {
  beforeAll(async () => {
    project = await faultProject(info, { repo: REPO, versions: ['1.0.0', ['2.0.0', 'hangs'], ['3.0.0', 'uptest-hangs']], extra: { deploy_timeout: '8s', uptests: { path: 'uptests', timeout: '4s' } } });
  }, 600_000);

  afterAll(async () => {
    if (measured.length > 0) console.info(`faults-hang measurements:\n${measured.join('\n')}`);
    await resetHosts(info);
  });

  it('a health endpoint that never answers: refused at deploy_timeout naming the check, v1 keeps serving', async () => {
    const t0 = Date.now();
    const { result: r, load } = await underFaultLoad(info, 120_000, () => run(['deploy', '--version', '2.0.0']));
    const tookMs = Date.now() - t0;
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/hello-web-2\.0\.0 is not healthy/);
    // What hung, in the words of the check that saw it.
    expect(r.output).toMatch(/timeout|timed out|GET \/up/i);
    expect(r.output).toMatch(/every host is on 1\.0\.0/);
    expect(tookMs).toBeLessThan(60_000);
    expect(convergedOn(await settledTruth(info), '1.0.0')).toEqual([]);
    expect(load.failures).toEqual([]);
    measured.push(`| health endpoint hangs | ${load.requests} | ${load.failed} | refused after ${(tookMs / 1000).toFixed(1)} s (deploy_timeout 8s) |`);
  });

  it('an uptest that never exits: killed at uptests.timeout and named, v1 keeps serving', async () => {
    const t0 = Date.now();
    const { result: r, load } = await underFaultLoad(info, 120_000, () => run(['deploy', '--version', '3.0.0']));
    const tookMs = Date.now() - t0;
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/03-hangs/);
    expect(r.output).toMatch(/hung: 03-hangs/);
    expect(r.output).toMatch(/every host is on 1\.0\.0/);
    expect(tookMs).toBeLessThan(60_000);
    expect(convergedOn(await settledTruth(info), '1.0.0')).toEqual([]);
    // The killed uptest containers are gone too.
    for (const h of ['vm1', 'vm2']) expect(await onHost(info, h, 'docker ps -aq --filter label=gangway.managed=uptest')).toBe('');
    expect(load.failures).toEqual([]);
    measured.push(`| uptest never exits | ${load.requests} | ${load.failed} | refused after ${(tookMs / 1000).toFixed(1)} s (uptests.timeout 4s) |`);
  });

  it('a command over SSH that blocks: ends at its timeout naming the host and step, nothing changed', async () => {
    // The lock directory exists, and reading its details file blocks forever (a FIFO).
    await onHost(info, 'vm1', `mkdir -p ${lockPath(HELLO)} && mkfifo ${lockPath(HELLO)}/details.json`);
    try {
      const t0 = Date.now();
      const { result: r, load } = await underFaultLoad(info, 120_000, () => run(['deploy', '--version', '1.0.0']));
      const tookMs = Date.now() - t0;
      expect(r.code).not.toBe(0);
      expect(r.output).toMatch(/vm1/);
      expect(r.output).toMatch(/lock/);
      expect(r.output).toMatch(/timed out|timeout|did not answer/i);
      expect(tookMs).toBeLessThan(70_000);
      expect(convergedOn(await settledTruth(info), '1.0.0')).toEqual([]);
      expect(load.failures).toEqual([]);
      measured.push(`| SSH command hangs (lock read) | ${load.requests} | ${load.failed} | failed after ${(tookMs / 1000).toFixed(1)} s: ${r.output.split('\n').find((l) => /timed out|timeout/i.test(l))?.trim()} |`);
    } finally {
      await onHost(info, 'vm1', `rm -rf ${lockPath(HELLO)}`);
    }
  });
});
