import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hookEnv, hookPath, runHook, type HookContext } from '../../src/hooks/hooks.js';
import { GangwayError } from '../../src/errors.js';

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
