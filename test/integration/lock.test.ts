// The deploy lock on a real filesystem through LocalHost: atomic acquire, contention naming the
// holder (exit 3), status, guarded release, and --lock-wait.
import { afterAll, describe, expect, it } from 'vitest';
import { LocalHost } from '../../src/hosts/local-host.js';
import { acquireLock, lockStatus, newLockDetails, releaseLock, tryAcquireLock } from '../../src/state/lock.js';
import { GangwayError, exitCodeFor } from '../../src/errors.js';
import { uniqueName } from './helpers/blocks.js';

const host = new LocalHost();
const deployment = { service: uniqueName('blocks-lock-') };

afterAll(async () => {
  await releaseLock(host, deployment);
});

describe('deploy lock', () => {
  it('is free, then held by the first acquirer with its details, then free again', async () => {
    expect(await lockStatus(host, deployment)).toEqual({ held: false });
    const mine = newLockDetails({ deployment, version: '1.0.0', message: 'first' });
    await acquireLock(host, mine);
    expect(await lockStatus(host, deployment)).toEqual({ held: true, details: mine });
    expect(await releaseLock(host, deployment, mine.id)).toBe(true);
    expect(await lockStatus(host, deployment)).toEqual({ held: false });
  });

  it('refuses a second acquirer with a lock error naming the holder, age, version and message', async () => {
    const first = newLockDetails({ deployment, version: '1.0.0', message: 'shipping the fix', holder: 'ann@laptop' });
    await acquireLock(host, first);
    const err = await acquireLock(host, newLockDetails({ deployment, version: '2.0.0' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GangwayError);
    expect(exitCodeFor((err as GangwayError).code)).toBe(3);
    expect((err as Error).message).toMatch(/held by ann@laptop \(pid \d+\) for \d+s, deploying 1\.0\.0: shipping the fix/);
    await releaseLock(host, deployment, first.id);
  });

  it('lets exactly one of several racing acquirers win', async () => {
    const contenders = Array.from({ length: 6 }, (_, i) => newLockDetails({ deployment, version: `v${i}` }));
    const outcomes = await Promise.all(contenders.map((d) => tryAcquireLock(host, d)));
    const winners = outcomes.filter((o) => o.acquired);
    expect(winners).toHaveLength(1);
    await releaseLock(host, deployment);
  });

  it('does not release a lock someone else took over', async () => {
    const stale = newLockDetails({ deployment, version: '1' });
    const current = newLockDetails({ deployment, version: '2' });
    await acquireLock(host, current);
    expect(await releaseLock(host, deployment, stale.id)).toBe(false);
    expect(await lockStatus(host, deployment)).toMatchObject({ held: true, details: { id: current.id } });
    expect(await releaseLock(host, deployment)).toBe(true);
  });

  it('waits for a release with --lock-wait, bounded', async () => {
    const first = newLockDetails({ deployment, version: '1' });
    await acquireLock(host, first);
    setTimeout(() => void releaseLock(host, deployment, first.id), 600);
    let waitedFor: string | undefined;
    const second = newLockDetails({ deployment, version: '2' });
    const t0 = Date.now();
    await acquireLock(host, second, { waitMs: 5_000, pollIntervalMs: 100, onWaiting: (h) => (waitedFor = h?.version) });
    expect(waitedFor).toBe('1');
    expect(Date.now() - t0).toBeLessThan(3_000);
    await releaseLock(host, deployment, second.id);

    await acquireLock(host, first);
    const t1 = Date.now();
    await expect(acquireLock(host, second, { waitMs: 500, pollIntervalMs: 100 })).rejects.toMatchObject({ code: 'lock' });
    expect(Date.now() - t1).toBeLessThan(2_000);
    await releaseLock(host, deployment);
  });
});
