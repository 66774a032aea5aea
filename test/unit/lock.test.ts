import { describe, expect, it } from 'vitest';
import {
  acquireLockCommand, describeLockHolder, formatAge, lockHeldError, lockStatusCommand, newLockDetails, parseLockDetails, parseLockStatus, releaseLockCommand,
} from '../../src/state/lock.js';
import { exitCodeFor } from '../../src/errors.js';

const details = newLockDetails({ service: 'hello', version: '1.2.0', message: 'friday fix', holder: 'ann@laptop', pid: 42, now: new Date('2026-01-01T10:00:00Z'), id: 'abc123' });

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
    expect(releaseLockCommand('hello', id).command).toBe(expected);
  });
  it('status prints held + details or free', () => {
    expect(lockStatusCommand('hello').command).toBe('if [ -d /var/lib/gangway/locks/hello ]; then echo held; cat /var/lib/gangway/locks/hello/details.json 2>/dev/null; else echo free; fi');
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
    const err = lockHeldError('hello', 'vm1', details, new Date('2026-01-01T10:00:30Z'));
    expect(err.code).toBe('lock');
    expect(exitCodeFor(err.code)).toBe(3);
    expect(err.message).toContain('ann@laptop');
    expect(err.message).toContain('30s');
    expect(err.host).toBe('vm1');
    expect(err.hint).toMatch(/lock release/);
  });
});
