import { describe, expect, it } from 'vitest';
import {
  acquireLock, acquireLockCommand, describeLockHolder, formatAge, lockHeldError, lockStatusCommand, newLockDetails, parseLockDetails, parseLockStatus, releaseLockCommand,
} from '../../src/state/lock.js';
import { exitCodeFor, GangwayError } from '../../src/errors.js';
import type { ExecResult, Host } from '../../src/hosts/host.js';
import { reportError } from '../../src/cli/context.js';
import { Events } from '../../src/events/events.js';

const details = newLockDetails({ deployment: { service: 'hello' }, version: '1.2.0', message: 'friday fix', holder: 'ann@laptop', pid: 42, now: new Date('2026-01-01T10:00:00Z'), id: 'abc123' });

describe('lock commands', () => {
  it('acquire: atomic mkdir, details through stdin, exit 3 printing the holder when held', () => {
    const cmd = acquireLockCommand(details);
    expect(cmd.command).toBe(
      'mkdir -p /var/lib/gangway/locks && if mkdir /var/lib/gangway/locks/hello 2>/dev/null; then cat > /var/lib/gangway/locks/hello/details.json; else cat /var/lib/gangway/locks/hello/details.json 2>/dev/null; exit 3; fi',
    );
    expect(JSON.parse(cmd.stdin!)).toEqual(details);
    expect(cmd.command).not.toContain('friday');
  });
  it.each([
    [undefined, 'rm -rf /var/lib/gangway/locks/hello'],
    ['abc123', `if [ ! -d /var/lib/gangway/locks/hello ]; then exit 0; elif grep -qF '"id":"abc123"' /var/lib/gangway/locks/hello/details.json; then rm -rf /var/lib/gangway/locks/hello; else cat /var/lib/gangway/locks/hello/details.json 2>/dev/null; exit 3; fi`],
  ])('release with id %s', (id, expected) => {
    expect(releaseLockCommand({ service: 'hello' }, id).command).toBe(expected);
  });
  it('status prints held + details or free', () => {
    expect(lockStatusCommand({ service: 'hello' }).command).toBe('if [ -d /var/lib/gangway/locks/hello ]; then echo held; cat /var/lib/gangway/locks/hello/details.json 2>/dev/null; else echo free; fi');
  });
});

describe('parsing', () => {
  it.each([
    ['', undefined],
    ['not json', undefined],
    [JSON.stringify(details), details],
  ])('parseLockDetails(%j)', (text, expected) => {
    expect(parseLockDetails(text)).toEqual(expected);
  });
  it.each([
    ['free\n', { held: false }],
    ['held\n', { held: true, details: undefined }],
    [`held\n${JSON.stringify(details)}\n`, { held: true, details }],
  ])('parseLockStatus(%j)', (text, expected) => {
    expect(parseLockStatus(text)).toEqual(expected);
  });
});

describe('describing the holder', () => {
  it.each([
    [0, '0s'], [59_000, '59s'], [61_000, '1m01s'], [3_600_000, '1h00m'], [90_061_000, '1d1h'], [-5, '0s'],
  ])('formatAge(%i) = %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
  it('names holder, pid, age, version and message', () => {
    expect(describeLockHolder(details, new Date('2026-01-01T10:02:05Z'))).toBe('held by ann@laptop (pid 42) for 2m05s, deploying 1.2.0: friday fix');
  });
  it('copes with a holder still writing its details', () => {
    expect(describeLockHolder(undefined)).toMatch(/still being written/);
  });
  it('is a lock error (exit 3) with a hint', () => {
    const err = lockHeldError({ service: 'hello' }, 'vm1', details, new Date('2026-01-01T10:00:30Z'));
    expect(err.code).toBe('lock');
    expect(exitCodeFor(err.code)).toBe(3);
    expect(err.message).toContain('ann@laptop');
    expect(err.message).toContain('30s');
    expect(err.host).toBe('vm1');
    expect(err.hint).toMatch(/lock release/);
  });
});

/** A host whose lock is always held by `details` (exit 3 printing it); counts the tries. */
function heldLockHost(): Host & { tries: number } {
  const host = {
    name: 'vm1',
    kind: 'ssh' as const,
    tries: 0,
    async exec(): Promise<ExecResult> {
      host.tries++;
      return { code: 3, stdout: `${JSON.stringify(details)}\n`, stderr: '' };
    },
  };
  return host as unknown as Host & { tries: number };
}

const mine = newLockDetails({ deployment: { service: 'hello' }, version: '2.0.0', holder: 'bob@ci', pid: 7, id: 'mine' });

async function rejection(p: Promise<unknown>): Promise<GangwayError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GangwayError);
    return err as GangwayError;
  }
  throw new Error('expected a rejection');
}

describe('acquireLock: waiting, and Ctrl-C while waiting', () => {
  it('Ctrl-C (an aborted signal) ends the wait at once as interrupted: exit 130, not 3', async () => {
    const host = heldLockHost();
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 50);
    // Long poll and long wait: only the abort can end this quickly.
    const err = await rejection(acquireLock(host, mine, { waitMs: 600_000, pollIntervalMs: 60_000, signal: controller.signal }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err.code).toBe('interrupted');
    expect(exitCodeFor(err.code)).toBe(130);
    expect(err.message).toBe('interrupted while waiting for the deploy lock of hello held by ann@laptop (pid 42); nothing was changed');
    expect(host.tries).toBe(1);
  });

  it('the CLI maps that error to exit 130', async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await rejection(acquireLock(heldLockHost(), mine, { waitMs: 60_000, signal: controller.signal }));
    expect(reportError('deploy', err, new Events(), { config: 'gangway.yml' })).toBe(130);
  });

  it('aborted before the first try: no try at all', async () => {
    const host = heldLockHost();
    const controller = new AbortController();
    controller.abort();
    const err = await rejection(acquireLock(host, mine, { waitMs: 60_000, signal: controller.signal }));
    expect(err.code).toBe('interrupted');
    expect(host.tries).toBe(0);
  });

  it('a wait that runs out is still the lock error (exit 3), after polling', async () => {
    const host = heldLockHost();
    const waiting: unknown[] = [];
    const err = await rejection(acquireLock(host, mine, { waitMs: 120, pollIntervalMs: 20, signal: new AbortController().signal, onWaiting: (h) => waiting.push(h) }));
    expect(err.code).toBe('lock');
    expect(exitCodeFor(err.code)).toBe(3);
    expect(host.tries).toBeGreaterThan(1);
    expect(waiting).toEqual([details]);
  });
});
