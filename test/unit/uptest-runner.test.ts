import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capTail, cutShortReason, parseRunnerLine, RUNNER_SCRIPT, RunnerLog, runnerContainerSpec, runnerTimeoutSeconds } from '../../src/gates/uptest-runner.js';
import { sharedListing } from '../../src/gates/uptests.js';

const M = 'gangway-uptests-abc123';

describe('uptest runner lines', () => {
  it('reads the marker lines and nothing else', () => {
    expect(parseRunnerLine(M, `${M} start 0`)).toEqual({ kind: 'start', index: 0 });
    expect(parseRunnerLine(M, `${M} out 1 GET /up answered ok`)).toEqual({ kind: 'out', index: 1, text: 'GET /up answered ok' });
    expect(parseRunnerLine(M, `${M} out 1 `)).toEqual({ kind: 'out', index: 1, text: '' });
    expect(parseRunnerLine(M, `${M} killed 2`)).toEqual({ kind: 'killed', index: 2 });
    expect(parseRunnerLine(M, `${M} end 2 137`)).toEqual({ kind: 'end', index: 2, status: 137 });
    // Another run's marker, the shell's own lines, a malformed end: not ours.
    expect(parseRunnerLine(M, 'gangway-uptests-ffffff end 0 0')).toBeUndefined();
    expect(parseRunnerLine(M, 'Killed')).toBeUndefined();
    expect(parseRunnerLine(M, `${M} end 0 x`)).toBeUndefined();
  });
});

describe('RunnerLog', () => {
  const opts = { timeoutMs: 2000, stop: 'finished' as const, now: 0, maxOutputBytes: 64 * 1024 };

  it('turns each uptest\'s lines into its result, in name order, output kept per uptest', () => {
    const log = new RunnerLog(M, ['01_ok', '02_bad']);
    const lines = [`${M} start 0`, `${M} start 1`, `${M} out 1 on stdout before failing`, `${M} out 0 fine`, 'Killed', `${M} end 1 3`, `${M} out 1 expected hi`, `${M} end 0 0`];
    const seen = lines.map((l, i) => log.accept(l, 1000 + i * 100));
    expect(seen.filter(Boolean)).toEqual([{ kind: 'start', index: 0 }, { kind: 'start', index: 1 }, { kind: 'end', index: 1 }, { kind: 'end', index: 0 }]);
    expect(log.allEnded()).toBe(true);
    expect(log.result(0, opts)).toEqual({ name: '01_ok', passed: true, exitCode: 0, timedOut: false, durationMs: 700, output: 'fine\n' });
    expect(log.result(1, opts)).toEqual({ name: '02_bad', passed: false, exitCode: 3, timedOut: false, durationMs: 400, output: 'on stdout before failing\nexpected hi\n' });
  });

  it('an uptest its timeout killed is timed out with no exit code; one that ended at its deadline on its own passed', () => {
    const log = new RunnerLog(M, ['hang', 'close']);
    for (const l of [`${M} start 0`, `${M} out 0 waiting`, `${M} killed 0`, `${M} end 0 137`, `${M} start 1`, `${M} killed 1`, `${M} end 1 0`]) log.accept(l, 5);
    expect(log.result(0, opts)).toMatchObject({ passed: false, exitCode: null, timedOut: true, output: 'waiting\nuptest hang did not finish within 2000 ms and was killed\n' });
    expect(log.result(1, opts)).toMatchObject({ passed: true, exitCode: 0, timedOut: false });
  });

  it('when gangway stopped the container: the running one timed out or aborted, the one never started says so', () => {
    const log = new RunnerLog(M, ['a', 'b']);
    log.accept(`${M} start 0`, 100);
    expect(log.allEnded()).toBe(false);
    expect(log.result(0, { ...opts, stop: 'timeout', now: 900 })).toMatchObject({ passed: false, exitCode: null, timedOut: true, durationMs: 800 });
    expect(log.result(1, { ...opts, stop: 'aborted' })).toMatchObject({ passed: false, timedOut: false, aborted: true, durationMs: 0, output: "uptest b did not start: the uptests' container was stopped\nuptest b was stopped: the deploy was aborted\n" });
  });

  it('a container that ended before an uptest did shows what the shell said', () => {
    const log = new RunnerLog(M, ['a']);
    log.accept('sh: 1: /app/uptests/web/a: Permission denied', 1);
    expect(log.result(0, opts)).toMatchObject({ passed: false, exitCode: null, timedOut: false, output: expect.stringContaining('Permission denied') });
  });

  it('output that ended early for a known reason says that reason, not that the container ended', () => {
    const log = new RunnerLog(M, ['slow', 'quick', 'later']);
    for (const l of [`${M} start 0`, `${M} out 0 waiting 12 s`, `${M} start 1`, `${M} end 1 0`]) log.accept(l, 5);
    log.cutShort(cutShortReason('vm2', { error: 'cannot connect to vm2 (127.0.0.1:2222): connection refused' }));
    const slow = log.result(0, opts);
    expect(slow).toMatchObject({ passed: false, exitCode: null, timedOut: false });
    expect(slow.output).toBe('waiting 12 s\nthe uptest did not finish: lost the connection to vm2 before the uptests ended, so their outcome is unknown (cannot connect to vm2 (127.0.0.1:2222): connection refused)\n');
    expect(log.result(1, opts)).toMatchObject({ passed: true, exitCode: 0 });
    expect(log.result(2, opts).output).toMatch(/^could not run the uptest: lost the connection to vm2/);
  });

  it('cutShortReason: what the look at the container found', () => {
    expect(cutShortReason('vm1', { container: 'running' })).toBe("the uptests' output from vm1 stopped while their container still ran");
    expect(cutShortReason('vm1', { container: 'exited', exitCode: 137, oomKilled: true })).toBe("the uptests' container ended (exit 137, out of memory) before it did");
    expect(cutShortReason('vm1', { container: 'exited', exitCode: 2, oomKilled: false })).toBe("the uptests' container ended (exit 2) before it did");
  });

  it('caps each uptest\'s output to its tail', () => {
    expect(capTail('abcdef', 3)).toBe('[... 3 bytes cut]\ndef');
    expect(capTail('abc', 3)).toBe('abc');
  });
});

describe('runnerContainerSpec', () => {
  it('one container of the same image, env, network and args, the names after the settings', () => {
    const spec = runnerContainerSpec({ name: 'web-v2-uptest-all-1a2b3c', image: 'reg/app:2', dir: '/app/uptests/web', names: ['01-up', '02-version'], marker: M, timeoutMs: 1500, parallel: true, targetName: 'web-v2', appPort: 80, network: 'gangway', env: { B: '2', A: '1' }, labels: { team: 'a' } });
    expect(spec.Labels).toEqual({ team: 'a', 'gangway.managed': 'uptest', 'gangway.uptest_of': 'web-v2' });
    expect(spec.Entrypoint).toEqual(['/bin/sh', '-c', RUNNER_SCRIPT, 'gangway-uptests']);
    expect(spec.Cmd).toEqual([M, '2', '/app/uptests/web', '1', 'web-v2', '80', '0', '01-up', '02-version']);
    expect(spec.OpenStdin).toBeUndefined();
    expect(spec.Env).toEqual(['A=1', 'B=2']);
    expect(spec.HostConfig?.NetworkMode).toBe('gangway');
    expect(spec.Image).toBe('reg/app:2');
  });

  it("joins the app container's network namespace when told to (the deploy's runner), its network otherwise", () => {
    const base = { name: 'r', image: 'i', dir: '/u', names: ['01-up'], marker: M, timeoutMs: 1000, parallel: false, targetName: 'web-v2', appPort: 80, network: 'gangway', env: {} };
    expect(runnerContainerSpec({ ...base, sharesNetworkOf: 'web-v2' }).HostConfig?.NetworkMode).toBe('container:web-v2');
    expect(runnerContainerSpec(base).HostConfig?.NetworkMode).toBe('gangway');
  });

  it('armed: waits for `go` on an open stdin before it runs anything (run here by sh)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-runner-'));
    writeFileSync(join(dir, '01-up'), '#!/bin/sh\necho "up $1 $2"\n', { mode: 0o755 });
    const spec = runnerContainerSpec({ name: 'r', image: 'i', dir, names: ['01-up'], marker: M, timeoutMs: 1000, parallel: false, targetName: 'web-v2', appPort: 80, network: 'n', env: {}, armed: true });
    expect([spec.OpenStdin, spec.StdinOnce]).toEqual([true, true]);
    const args = ['-c', RUNNER_SCRIPT, 'gangway-uptests', ...(spec.Cmd as string[])];
    const ran = spawnSync('sh', args, { input: 'go\n', encoding: 'utf8' });
    expect(ran.stdout).toContain(`${M} out 0 up web-v2 80`);
    expect(ran.stdout).toContain(`${M} end 0 0`);
    for (const input of ['', 'stop\n']) {
      const idle = spawnSync('sh', args, { input, encoding: 'utf8' });
      expect([idle.status, idle.stdout]).toEqual([0, '']);
    }
  });

  it('a hung uptest: its killed line always comes before its end line (run here by sh, 4 at once)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-runner-'));
    writeFileSync(join(dir, '01-hang'), '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    const spec = runnerContainerSpec({ name: 'r', image: 'i', dir, names: ['01-hang'], marker: M, timeoutMs: 1000, parallel: false, targetName: 'web-v2', appPort: 80, network: 'n', env: {} });
    const args = ['-c', RUNNER_SCRIPT, 'gangway-uptests', ...(spec.Cmd as string[])];
    const { spawn } = await import('node:child_process');
    const runs = await Promise.all([1, 2, 3, 4].map(() => new Promise<string>((resolve) => {
      let out = '';
      const child = spawn('sh', args, { stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
      child.on('close', () => resolve(out));
    })));
    for (const out of runs) {
      const lines = out.split('\n').filter((l) => l.startsWith(M));
      expect(lines).toEqual([`${M} start 0`, `${M} killed 0`, `${M} end 0 137`]);
    }
  }, 15_000);

  it('timeouts in whole seconds, rounded up, at least one', () => {
    expect([runnerTimeoutSeconds(60_000), runnerTimeoutSeconds(1500), runnerTimeoutSeconds(1)]).toEqual([60, 2, 1]);
  });
});

describe('sharedListing: one host lists a role\'s uptests for the others', () => {
  const listing = { imageId: 'sha256:aaa', dir: '/app/uptests/web', names: ['01-up', '02-version'], shell: true };
  it('is used by a host whose image has the same id', async () => {
    expect(await sharedListing({ shared: { listing: Promise.resolve(listing), imageId: 'sha256:aaa' } })).toEqual(listing);
  });
  it('is not used by a host whose image differs, or whose image id is unknown: that host lists its own', async () => {
    expect(await sharedListing({ shared: { listing: Promise.resolve(listing), imageId: 'sha256:bbb' } })).toBeUndefined();
    expect(await sharedListing({ shared: { listing: Promise.resolve(listing), imageId: undefined } })).toBeUndefined();
    expect(await sharedListing({})).toBeUndefined();
  });
  it('a listing still running after the wait is not waited for any longer: the host lists its own', async () => {
    const never = new Promise<typeof listing>(() => {});
    expect(await sharedListing({ shared: { listing: never, imageId: 'sha256:aaa' } }, 50)).toBeUndefined();
  });
  it('the host making the listing waits for it past the bound: no second probe on that host', async () => {
    const slow = new Promise<typeof listing>((resolve) => setTimeout(() => resolve(listing), 150));
    expect(await sharedListing({ shared: { listing: slow, imageId: 'sha256:aaa', own: true } }, 50)).toEqual(listing);
  });
  it('a listing that failed on the other host is not this host\'s failure: it lists its own', async () => {
    expect(await sharedListing({ shared: { listing: Promise.reject(new Error('vm1 unreachable')), imageId: 'sha256:aaa' } })).toBeUndefined();
  });
});
