// A lock left by a killed deploy says so: the holder's pid is checked when the lock was taken on
// this machine, and the message and hint tell the user what to do.
import { describe, expect, it } from 'vitest';
import { describeLockHolder, execFailure, holderState, lockHeldError, newLockDetails } from '../../src/state/lock.js';

const details = newLockDetails({ deployment: { service: 'hello' }, version: '2.0.0', holder: 'ann@box', pid: 4242, now: new Date('2026-01-01T10:00:00Z'), id: 'x' });

describe('holderState', () => {
  it.each([
    { name: 'same machine, pid alive', holder: 'ann@box', alive: true, want: 'running' },
    { name: 'same machine, pid gone', holder: 'ann@box', alive: false, want: 'not-running' },
    { name: 'another machine: its pids mean nothing here', holder: 'ann@laptop', alive: false, want: 'elsewhere' },
    { name: 'a holder without a machine', holder: 'ann', alive: false, want: 'elsewhere' },
    { name: 'a user name with @ in it', holder: 'ann@corp@box', alive: false, want: 'not-running' },
  ])('$name -> $want', ({ holder, alive, want }) => {
    expect(holderState({ ...details, holder }, () => alive, 'box')).toBe(want);
  });

  it('no details (still being written) or no pid: unknown, treated as elsewhere', () => {
    expect(holderState(undefined, () => false, 'box')).toBe('elsewhere');
    expect(holderState({ ...details, pid: 0 }, () => false, 'box')).toBe('elsewhere');
  });

  it('checks the real process table by default', () => {
    expect(holderState(newLockDetails({ deployment: { service: 'hello' }, version: '1' }))).toBe('running');
  });
});

describe('a lock whose holder is gone', () => {
  const now = new Date('2026-01-01T10:03:00Z');

  it('is described with holder, age and the dead pid', () => {
    expect(describeLockHolder(details, now, 'not-running')).toBe(
      'held by ann@box (pid 4242) for 3m00s, deploying 2.0.0; pid 4242 is not running on this machine (that deploy was killed)',
    );
    expect(describeLockHolder(details, now, 'running')).not.toMatch(/not running/);
  });

  it('the lock error hints at status, lock release and a rerun', () => {
    const err = lockHeldError({ service: 'hello' }, 'vm1', details, now, 'not-running');
    expect(err.code).toBe('lock');
    expect(err.message).toMatch(/pid 4242 is not running/);
    expect(err.hint).toMatch(/gangway lock release/);
    expect(err.hint).toMatch(/rerun resumes/);
  });
});

describe('execFailure', () => {
  it.each([
    { name: 'a hung command cut off at its timeout', r: { code: 255, stdout: '', stderr: '', signal: 'timeout' }, want: 'the command hung on the host and was stopped after 30 s (timed out)' },
    { name: 'stderr when there is one', r: { code: 1, stdout: '', stderr: 'mkdir: Permission denied\n' }, want: 'mkdir: Permission denied' },
    { name: 'the exit code otherwise', r: { code: 2, stdout: '', stderr: '' }, want: 'exit 2' },
    { name: 'a signal', r: { code: 255, stdout: '', stderr: '', signal: 'KILL' }, want: 'exit 255 (KILL)' },
  ])('$name', ({ r, want }) => {
    expect(execFailure(r, 30_000)).toBe(want);
  });
});
