import { describe, expect, it } from 'vitest';
import { dockerHealthVerdict, hasDockerHealthcheck, healthcheckCommand, healthcheckTimeoutMs, healthProbeLines } from '../../src/gates/docker-health.js';
import { runningVerdict } from '../../src/gates/running.js';
import { describeUptestResults, uptestContainerName, uptestContainerSpec, uptestNamesFromArchive, uptestsDir, type UptestResult } from '../../src/gates/uptests.js';
import { dieExitCode, type ContainerStateLike } from '../../src/gates/container-watch.js';

const withHealth = (status: string, extra: Partial<NonNullable<ContainerStateLike['State']>> = {}): ContainerStateLike => ({
  State: { Status: 'running', Running: true, Health: { Status: status, FailingStreak: 3, Log: [{ ExitCode: 1, Output: 'wget: connection refused\n' }] }, ...extra },
});

describe('dockerHealthVerdict', () => {
  it.each([
    ['healthy', withHealth('healthy'), {}, { done: true, passed: true }],
    ['starting', withHealth('starting'), {}, { done: false }],
    ['unhealthy', withHealth('unhealthy'), {}, { done: true, passed: false }],
    ['no healthcheck', { State: { Running: true, Status: 'running' } }, {}, { done: true, passed: true }],
    ['exited', { State: { Running: false, Status: 'exited', ExitCode: 1 } }, {}, { done: true, passed: false, exitCode: 1 }],
    ['restarting', withHealth('starting', { Restarting: true, ExitCode: 2 }), {}, { done: true, passed: false, exitCode: 2 }],
    ['a die event while still starting', withHealth('starting'), { diedWithExitCode: 137 }, { done: true, passed: false, exitCode: 137 }],
  ])('%s', (_, info, facts, expected) => {
    expect(dockerHealthVerdict(info, facts)).toMatchObject(expected);
  });
  it('says the exit code in its message', () => {
    expect(dockerHealthVerdict({ State: { Running: false, Status: 'exited', ExitCode: 1, OOMKilled: true } }, {})).toMatchObject({ message: 'container exited with code 1 (out of memory) before it was healthy' });
  });
  it.each([
    [{ Config: { Healthcheck: { Test: ['CMD-SHELL', 'true'] } } }, true],
    [{ Config: { Healthcheck: { Test: ['NONE'] } } }, false],
    [{ Config: {} }, false],
    [withHealth('starting'), true],
  ])('hasDockerHealthcheck %#', (info, expected) => {
    expect(hasDockerHealthcheck(info)).toBe(expected);
  });
  it('shows the probe output', () => {
    expect(healthProbeLines(withHealth('unhealthy'))).toEqual(['health check exit 1: wget: connection refused']);
  });
});

describe('the image HEALTHCHECK as gangway runs it', () => {
  const withCheck = (Test: string[] | undefined, more: { Shell?: string[]; Timeout?: number } = {}): ContainerStateLike => ({ Config: { Healthcheck: { ...(Test ? { Test } : {}), ...(more.Timeout !== undefined ? { Timeout: more.Timeout } : {}) }, ...(more.Shell ? { Shell: more.Shell } : {}) } });
  it('runs CMD as given and CMD-SHELL through the image shell (/bin/sh -c by default)', () => {
    expect(healthcheckCommand(withCheck(['CMD', '/app/healthcheck', '--quick']))).toEqual(['/app/healthcheck', '--quick']);
    expect(healthcheckCommand(withCheck(['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1/up']))).toEqual(['/bin/sh', '-c', 'wget -q -O /dev/null http://127.0.0.1/up']);
    expect(healthcheckCommand(withCheck(['CMD-SHELL', 'curl -f localhost'], { Shell: ['/bin/bash', '-o', 'pipefail', '-c'] }))).toEqual(['/bin/bash', '-o', 'pipefail', '-c', 'curl -f localhost']);
  });
  it('has nothing to run without a check, with NONE, or with an empty CMD', () => {
    expect(healthcheckCommand(withCheck(undefined))).toBeUndefined();
    expect(healthcheckCommand(withCheck(['NONE']))).toBeUndefined();
    expect(healthcheckCommand(withCheck(['CMD']))).toBeUndefined();
    expect(healthcheckCommand({})).toBeUndefined();
  });
  it("bounds a run by the check's own timeout (nanoseconds), Docker's 30 s when unset", () => {
    expect(healthcheckTimeoutMs(withCheck(['CMD', 'x'], { Timeout: 2_000_000_000 }))).toBe(2000);
    expect(healthcheckTimeoutMs(withCheck(['CMD', 'x']))).toBe(30_000);
    expect(healthcheckTimeoutMs(withCheck(['CMD', 'x'], { Timeout: 0 }))).toBe(30_000);
  });
});

describe('runningVerdict', () => {
  const running = (restarts = 0, startedAt = 't0'): ContainerStateLike => ({ RestartCount: restarts, State: { Running: true, Status: 'running', StartedAt: startedAt } });
  const base = { restartCount: 0, startedAt: 't0' };
  it.each([
    ['settling', running(), { elapsedMs: 500 }, { done: false }],
    ['settled', running(), { elapsedMs: 2000 }, { done: true, passed: true }],
    ['restarted (count)', running(1), { elapsedMs: 500 }, { done: true, passed: false }],
    ['restarted (start time)', running(0, 't1'), { elapsedMs: 500 }, { done: true, passed: false }],
    ['exited', { State: { Running: false, ExitCode: 3 } }, { elapsedMs: 100 }, { done: true, passed: false, exitCode: 3 }],
    ['died (event)', running(), { elapsedMs: 100, diedWithExitCode: 1 }, { done: true, passed: false, exitCode: 1 }],
  ])('%s', (_, info, facts, expected) => {
    expect(runningVerdict(info, base, facts, 2000)).toMatchObject(expected);
  });
});

describe('dieExitCode', () => {
  it.each([
    ['{"status":"die","Action":"die","Actor":{"Attributes":{"exitCode":"1"}}}', 1],
    ['{"Action":"health_status: healthy"}', undefined],
    ['{"Action":"die","Actor":{}}', -1],
    ['garbage', undefined],
  ])('%s -> %s', (line, code) => {
    expect(dieExitCode(line)).toBe(code);
  });
});

describe('uptest listing', () => {
  it('keeps the executables directly in the role folder, sorted byte-wise', () => {
    expect(uptestNamesFromArchive([
      { name: 'web/', type: 'directory', mode: 0o755 },
      { name: 'web/02_b', type: 'file', mode: 0o755 },
      { name: 'web/01_a', type: 'file', mode: 0o700 },
      { name: 'web/README', type: 'file', mode: 0o644 },
      { name: 'web/B_upper', type: 'file', mode: 0o755 },
      { name: 'web/lib/helper', type: 'file', mode: 0o755 },
      { name: 'web/.hidden', type: 'file', mode: 0o755 },
      { name: 'web/03_link', type: 'symlink', mode: 0o777 },
    ])).toEqual(['01_a', '02_b', '03_link', 'B_upper']);
  });
  it.each([
    ['/app', 'uptests', 'web', '/app/uptests/web'],
    ['', 'uptests', 'web', '/uptests/web'],
    [undefined, 'checks/up', 'workers', '/checks/up/workers'],
    ['/app', '/opt/uptests', 'web', '/opt/uptests/web'],
  ])('dir for workdir %j, path %j, role %j', (wd, path, role, expected) => {
    expect(uptestsDir(wd, path, role)).toBe(expected);
  });
});

describe('uptestContainerSpec', () => {
  const spec = uptestContainerSpec({ name: 'u1', image: 'img:1', path: '/app/uptests/web/01_a', targetName: 'hello-web-1', appPort: 8080, network: 'net', env: { B: '2', A: '1' }, labels: { 'gangway.dev': 'blocks' } });
  it('runs the uptest as entrypoint with <container> <port>', () => {
    expect(spec.Entrypoint).toEqual(['/app/uptests/web/01_a']);
    expect(spec.Cmd).toEqual(['hello-web-1', '8080']);
  });
  it('same image, same env, app network, labelled, no published ports', () => {
    expect(spec.Image).toBe('img:1');
    expect(spec.Env).toEqual(['A=1', 'B=2']);
    expect(spec.HostConfig?.NetworkMode).toBe('net');
    expect(spec.HostConfig?.PortBindings).toBeUndefined();
    expect(spec.Labels).toEqual({ 'gangway.dev': 'blocks', 'gangway.managed': 'uptest', 'gangway.uptest_of': 'hello-web-1' });
  });
  it('makes a valid container name from any uptest file name', () => {
    expect(uptestContainerName('hello-web-1', '01 check.sh', 'abc')).toBe('hello-web-1-uptest-01_check.sh-abc');
  });
});

describe('describeUptestResults', () => {
  const r = (name: string, passed: boolean, extra: Partial<UptestResult> = {}): UptestResult => ({ name, passed, exitCode: passed ? 0 : 1, timedOut: false, durationMs: 10, output: passed ? 'fine\n' : 'boom\n', ...extra });
  it.each([
    [[], true, 'no uptests for this role'],
    [[r('01', true)], true, '1 uptest passed'],
    [[r('01', true), r('02', true)], true, '2 uptests passed'],
    [[r('01', true), r('02', false), r('03', false, { timedOut: true, exitCode: null })], false, '2 of 3 uptests failed: 02, 03 (hung: 03)'],
    [[r('01', true), r('02', false, { exitCode: null }), r('03', false, { aborted: true, exitCode: null })], false, '2 of 3 uptests failed: 02, 03 (no result: 02)'],
  ])('%# -> %s', (results, passed, message) => {
    expect(describeUptestResults(results)).toMatchObject({ passed, message });
  });
  it('shows the failing output, not the passing one', () => {
    const { details } = describeUptestResults([r('01', true), r('02', false)]);
    expect(details).toEqual(['uptest 01: passed in 10 ms', 'uptest 02: FAILED (exit 1) in 10 ms', '  02| boom']);
  });
  it('an uptest cut short is NO RESULT, not a failure with an exit code', () => {
    const { details } = describeUptestResults([r('01', false, { exitCode: null, output: 'the uptest did not finish: lost the connection to vm2\n' })]);
    expect(details).toEqual(['uptest 01: NO RESULT in 10 ms', '  01| the uptest did not finish: lost the connection to vm2']);
  });
});
