import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOOK_NAMES, hookEnv, hookPath, runAfterHook, runHook, unknownHooks, type HookContext } from '../../src/hooks/hooks.js';
import { GangwayError } from '../../src/errors.js';
import { Events, type GangwayEvent } from '../../src/events/events.js';
import type { HostTarget } from '../../src/hosts/host.js';
import { HostPool } from '../../src/hosts/pool.js';

const ctx: HookContext = { service: 'hello', version: '1.2.0', hosts: ['vm1', 'vm2'], roles: ['web', 'workers'], performer: 'ann@laptop', command: 'deploy', destination: 'staging' };

describe('hookEnv', () => {
  it.each([
    [ctx, { GANGWAY_SERVICE: 'hello', GANGWAY_VERSION: '1.2.0', GANGWAY_HOSTS: 'vm1,vm2', GANGWAY_ROLES: 'web,workers', GANGWAY_PERFORMER: 'ann@laptop', GANGWAY_COMMAND: 'deploy', GANGWAY_DESTINATION: 'staging' }],
    [{ ...ctx, destination: undefined, extra: { GANGWAY_RUNTIME: '12' } }, { GANGWAY_DESTINATION: '', GANGWAY_RUNTIME: '12' }],
  ])('%#', (c, expected) => {
    expect(hookEnv(c)).toMatchObject(expected);
  });
});

async function project(hooks: Record<string, { body: string; mode?: number }>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gangway-hooks-'));
  await mkdir(join(dir, '.gangway', 'hooks'), { recursive: true });
  for (const [name, { body, mode = 0o755 }] of Object.entries(hooks)) {
    await writeFile(hookPath(dir, name), body);
    await chmod(hookPath(dir, name), mode);
  }
  return dir;
}

describe('runHook', () => {
  it('skips a missing hook', async () => {
    const dir = await project({});
    expect(await runHook('pre-deploy', ctx, { projectDir: dir })).toMatchObject({ ran: false });
  });
  it('skips a hook that is not executable', async () => {
    const dir = await project({ 'pre-deploy': { body: '#!/bin/sh\nexit 1\n', mode: 0o644 } });
    expect(await runHook('pre-deploy', ctx, { projectDir: dir })).toMatchObject({ ran: false });
  });
  it('runs with the GANGWAY_* env and keeps its output', async () => {
    const dir = await project({ 'post-deploy': { body: '#!/bin/sh\necho "$GANGWAY_SERVICE $GANGWAY_VERSION $GANGWAY_HOSTS $GANGWAY_COMMAND"\n' } });
    expect(await runHook('post-deploy', ctx, { projectDir: dir })).toMatchObject({ ran: true, exitCode: 0, output: 'hello 1.2.0 vm1,vm2 deploy\n' });
  });
  it('fails as an operation error at step "hook <name>" with its output', async () => {
    const dir = await project({ 'pre-deploy': { body: '#!/bin/sh\necho "not on a friday" >&2\nexit 4\n' } });
    const err = await runHook('pre-deploy', ctx, { projectDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GangwayError);
    expect(err).toMatchObject({ code: 'operation', step: 'hook pre-deploy', details: ['not on a friday'] });
    expect((err as Error).message).toMatch(/exit code 4/);
  });
  it('is killed at its timeout, with what it started', async () => {
    const dir = await project({ 'pre-build': { body: '#!/bin/sh\necho started\nsleep 30 &\nsleep 30\n' } });
    const t0 = Date.now();
    const err = await runHook('pre-build', ctx, { projectDir: dir, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(err).toMatchObject({ code: 'operation', step: 'hook pre-build', details: ['started'] });
    expect((err as Error).message).toMatch(/within 300 ms/);
  });
});

describe('the hook set (issue 12 item 6)', () => {
  it("is Kamal's names for the points gangway has; rollback runs pre-deploy and post-deploy", () => {
    expect([...HOOK_NAMES]).toEqual(['pre-connect', 'pre-build', 'post-build', 'pre-deploy', 'post-deploy']);
  });
  it('names executables that would never run (typos, old pre-rollback), not samples or plain files', async () => {
    const dir = await project({
      'pre-deploy': { body: '#!/bin/sh\n' },
      predeploy: { body: '#!/bin/sh\n' },
      'pre-rollback': { body: '#!/bin/sh\n' },
      'pre-deploy.sample': { body: '#!/bin/sh\n' },
      'notes.txt': { body: 'x', mode: 0o644 },
    });
    expect(await unknownHooks(dir)).toEqual(['pre-rollback', 'predeploy']);
  });
});

describe('runAfterHook (post-deploy: the work is done)', () => {
  const recorded = () => {
    const events = new Events();
    const seen: GangwayEvent[] = [];
    events.on((e) => seen.push(e));
    return { events, seen };
  };
  it('turns a failure into a warning with the output, and never a done event', async () => {
    const dir = await project({ 'post-deploy': { body: '#!/bin/sh\necho "slack is down" >&2\nexit 3\n' } });
    const { events, seen } = recorded();
    const why = await runAfterHook('post-deploy', ctx, { projectDir: dir, events });
    expect(why).toBe('hook post-deploy failed with exit code 3');
    const warnings = seen.filter((e) => e.type === 'log' && e.level === 'warn').map((e) => (e as { message: string }).message);
    expect(warnings[0]).toContain('hook post-deploy failed with exit code 3');
    expect(warnings).toContain('  slack is down');
    expect(seen.some((e) => e.type === 'done')).toBe(false);
    expect(seen.some((e) => e.type === 'log' && e.level === 'error')).toBe(false);
  });
  it('returns undefined when the hook passed or is missing', async () => {
    const dir = await project({ 'post-deploy': { body: '#!/bin/sh\nexit 0\n' } });
    expect(await runAfterHook('post-deploy', ctx, { projectDir: dir })).toBeUndefined();
    expect(await runAfterHook('post-deploy', ctx, { projectDir: await project({}) })).toBeUndefined();
  });
});

describe('HostPool beforeConnect (where pre-connect runs)', () => {
  /** A TCP listener standing in for sshd: it records when each connection came, and closes it. */
  async function listener(): Promise<{ port: number; connections: number[]; close(): Promise<void> }> {
    const connections: number[] = [];
    const server = createServer((socket) => { connections.push(performance.now()); socket.destroy(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as AddressInfo).port, connections, close: () => new Promise((r) => server.close(() => r())) };
  }
  // A plain key: credentials are settled before any connection, so the TCP connect is attempted.
  const keyDir = mkdtempSync(join(tmpdir(), 'gangway-pool-key-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keyDir, 'id')]);
  const targetsOn = (port: number): HostTarget[] => ['vm1', 'vm2'].map((name) => ({ name, address: '127.0.0.1', port, user: 'root', identityFile: join(keyDir, 'id'), local: false }));
  const ssh = { knownHostsPath: '/dev/null', trustOnFirstUse: false, connectTimeoutMs: 2000, keepaliveIntervalMs: 0 };

  it('runs once, and before the first connection, however many hosts are asked for', async () => {
    const sshd = await listener();
    const runs: number[] = [];
    const pool = new HostPool(targetsOn(sshd.port), ssh, { env: { SSH_AUTH_SOCK: '/nonexistent' }, beforeConnect: async () => { runs.push(performance.now()); } });
    await Promise.all([pool.get('vm1').catch(() => {}), pool.get('vm2').catch(() => {}), pool.ready()]);
    await pool.closeAll();
    await sshd.close();
    expect(runs).toHaveLength(1);
    expect(sshd.connections).toHaveLength(2);
    expect(Math.min(...sshd.connections)).toBeGreaterThan(runs[0]!);
  });
  it('when it fails, no host is contacted and every get fails with its error as it is', async () => {
    const sshd = await listener();
    const refusal = new GangwayError('operation', 'hook pre-connect failed with exit code 1', { step: 'hook pre-connect' });
    const pool = new HostPool(targetsOn(sshd.port), ssh, { env: { SSH_AUTH_SOCK: '/nonexistent' }, beforeConnect: () => Promise.reject(refusal) });
    expect(await pool.get('vm1').catch((e: unknown) => e)).toBe(refusal);
    expect(await pool.get('vm2').catch((e: unknown) => e)).toBe(refusal);
    await pool.closeAll();
    await sshd.close();
    expect(sshd.connections).toEqual([]);
  });
});
