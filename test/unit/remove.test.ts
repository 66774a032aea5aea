// `gangway remove`'s pure parts: which hosts lose what, what the proxy's layout becomes in each of
// the two withdrawal steps, and the route lock's shell lines run by a real sh on a temp directory.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decideClaim, mapChanges, mapContents, withdrawClaim } from '../../src/proxy/claims.js';
import { emptyLayout, type ProxyLayout, type SlotSettings } from '../../src/proxy/layout.js';
import { acquireRouteLockCommand, releaseRouteLockCommand, releasingAfterCommand, routeLockPath, STALE_AFTER_S } from '../../src/proxy/route-lock.js';
import { planRemoval } from '../../src/deploy/remove.js';

const settings = (owner: string): SlotSettings => ({ owner, appPort: 80, healthcheck: { path: '/up', intervalMs: 1000, timeoutMs: 5000 }, responseTimeoutMs: 60_000, maxBodyBytes: 0, forwardHeaders: true });

/** a on a.test (+ /api) in slot 01, b as the catch-all in slot 02, a@staging on staging.a.test in slot 03. */
function threeOwners(): ProxyLayout {
  const l = emptyLayout();
  l.slots[0] = { backend: 'be_slot_01', settings: settings('a'), servers: [{ name: 'a-web-1', address: '10.0.0.2', port: 80, state: 'ready' }] };
  l.slots[1] = { backend: 'be_slot_02', settings: settings('b'), servers: [{ name: 'b-web-1', address: '10.0.0.3', port: 80, state: 'ready' }] };
  l.slots[2] = { backend: 'be_slot_03', settings: settings('a@staging'), servers: [{ name: 'a-web-staging-1', address: '10.0.0.4', port: 80, state: 'ready' }] };
  return { ...l, routes: [{ key: 'a.test/', backend: 'be_slot_01' }, { key: 'a.test/api/', backend: 'be_slot_01' }, { key: 'staging.a.test/', backend: 'be_slot_03' }], catchAll: 'be_slot_02' };
}

describe('withdrawClaim', () => {
  it('routes: every route of the owner goes, its slot and servers stay, nobody else changes', () => {
    const before = threeOwners();
    const after = withdrawClaim(before, 'a', 'routes')!;
    expect(after.routes).toEqual([{ key: 'staging.a.test/', backend: 'be_slot_03' }]);
    expect(after.catchAll).toBe('be_slot_02');
    expect(after.slots).toEqual(before.slots);
    // Only deletions of a's two routes reach the runtime.
    expect(mapChanges(mapContents(before), mapContents(after))).toEqual([
      { kind: 'routes', op: 'del', key: 'a.test/' },
      { kind: 'routes', op: 'del', key: 'a.test/api/' },
    ]);
  });

  it('routes of the catch-all owner: the catch-all entry goes', () => {
    const after = withdrawClaim(threeOwners(), 'b', 'routes')!;
    expect(after.catchAll).toBeUndefined();
    expect(after.routes).toHaveLength(3);
  });

  it('slot: the slot is free again and a new owner can take it', () => {
    const routesOff = withdrawClaim(threeOwners(), 'a@staging', 'routes')!;
    const freed = withdrawClaim(routesOff, 'a@staging', 'slot')!;
    expect(freed.slots[2]).toEqual({ backend: 'be_slot_03', servers: [] });
    expect(mapChanges(mapContents(routesOff), mapContents(freed))).toEqual([{ kind: 'slots', op: 'del', key: 'be_slot_03' }]);
    const next = decideClaim(freed, { settings: settings('c'), hosts: ['c.test'] }, 'vm1');
    expect(next.ok && next.backend).toBe('be_slot_03');
  });

  it('an owner with no slot on the host: nothing to do', () => {
    expect(withdrawClaim(threeOwners(), 'zed', 'routes')).toBeUndefined();
  });
});

describe('planRemoval', () => {
  const roles = [
    { name: 'web', hosts: ['vm1', 'vm2'], proxied: true },
    { name: 'worker', hosts: ['vm2', 'vm3'], proxied: false },
  ];
  it('every role by default, one entry per host', () => {
    expect(planRemoval(roles)).toEqual([
      { host: 'vm1', roles: ['web'], proxied: true },
      { host: 'vm2', roles: ['web', 'worker'], proxied: true },
      { host: 'vm3', roles: ['worker'], proxied: false },
    ]);
  });
  it('--role limits it; a worker-only removal leaves every proxy alone', () => {
    expect(planRemoval(roles, 'worker')).toEqual([
      { host: 'vm2', roles: ['worker'], proxied: false },
      { host: 'vm3', roles: ['worker'], proxied: false },
    ]);
  });
  it('an unknown role is a usage error naming the roles (exit 2)', () => {
    expect(() => planRemoval(roles, 'cron')).toThrow(expect.objectContaining({ code: 'usage', message: expect.stringContaining('web, worker') }));
  });
});

describe('route lock lines (run by sh)', () => {
  const sh = (command: string) => spawnSync('sh', ['-c', command]).status;
  const proxyDir = () => join(mkdtempSync(join(tmpdir(), 'gw-rl-')), 'proxy');

  it('one holder at a time; release by another token leaves it; release by the holder frees it', () => {
    const dir = proxyDir();
    expect(sh(acquireRouteLockCommand(dir, 'aaa').command)).toBe(0);
    expect(sh(acquireRouteLockCommand(dir, 'bbb').command)).toBe(3);
    expect(sh(releaseRouteLockCommand(dir, 'bbb').command)).toBe(0);
    expect(existsSync(routeLockPath(dir))).toBe(true);
    expect(sh(releaseRouteLockCommand(dir, 'aaa').command)).toBe(0);
    expect(existsSync(routeLockPath(dir))).toBe(false);
    expect(sh(acquireRouteLockCommand(dir, 'bbb').command)).toBe(0);
  });

  it('a command that releases after itself keeps its own exit status and frees the lock either way', () => {
    const dir = proxyDir();
    expect(sh(acquireRouteLockCommand(dir, 'aaa').command)).toBe(0);
    expect(sh(releasingAfterCommand('exit 7', dir, 'aaa'))).toBe(7);
    expect(existsSync(routeLockPath(dir))).toBe(false);
    expect(sh(acquireRouteLockCommand(dir, 'bbb').command)).toBe(0);
    expect(sh(releasingAfterCommand('true', dir, 'aaa'))).toBe(0);
    expect(existsSync(routeLockPath(dir))).toBe(true);
    expect(sh(releasingAfterCommand('true', dir, 'bbb'))).toBe(0);
    expect(existsSync(routeLockPath(dir))).toBe(false);
  });

  it(`a lock older than ${STALE_AFTER_S} s (its holder killed) is taken over`, () => {
    const dir = proxyDir();
    expect(sh(acquireRouteLockCommand(dir, 'dead').command)).toBe(0);
    const old = new Date(Date.now() - (STALE_AFTER_S + 30) * 1000);
    utimesSync(routeLockPath(dir), old, old);
    expect(sh(acquireRouteLockCommand(dir, 'live').command)).toBe(0);
    expect(execFileSync('cat', [join(routeLockPath(dir), 'owner')], { encoding: 'utf8' }).trim()).toBe('live');
  });
});
