// Issue 12 item 6: every hook of docs/hooks.md, run by the real CLI on the sandbox. Each hook
// appends a line to a log the test reads, and looks at the deploy lock from OUTSIDE gangway
// (docker exec into the primary host), so "under the lock" is not gangway's word for it.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { lockPath } from '../../src/state/lock.js';
import { gangway, getThroughProxy, HELLO, pushHello, resetHosts, writeProject, type CliResult } from './helpers/deploy.js';
import { makeApp, remoteTags, removeLocalImages, setAppVersion } from './release-support.js';

const info = inject('sandbox');
const REPO = 'hooks-it/hello';
let project: string;
let hookLog: string;

interface Event { type: string; step?: string; status?: string; level?: string; message?: string; ok?: boolean; exitCode?: number }
const eventsOf = (r: CliResult): Event[] => r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Event);
/** Index of the first event of a step in a status (the NDJSON stream is in emission order). */
const at = (events: Event[], step: string, status: string): number => events.findIndex((e) => e.type === 'step' && e.step === step && e.status === status);
const lastAt = (events: Event[], step: string, status: string): number => events.map((e) => e.type === 'step' && e.step === step && e.status === status).lastIndexOf(true);

/** Writes an executable hook: it records its name, GANGWAY_* and whether the lock was held, then runs `body`. */
function hook(dir: string, name: string, body = ''): void {
  mkdirSync(join(dir, '.gangway', 'hooks'), { recursive: true });
  const vm1 = info.hosts.find((h) => h.name === 'vm1')!.containerId;
  const record = [
    '#!/bin/sh',
    `lock=$(docker exec ${vm1} sh -c 'test -d ${lockPath(HELLO)} && echo held || echo free' 2>/dev/null || echo n/a)`,
    `echo "${name} cmd=$GANGWAY_COMMAND version=$GANGWAY_VERSION hosts=$GANGWAY_HOSTS roles=$GANGWAY_ROLES service=$GANGWAY_SERVICE image=\${GANGWAY_IMAGE:-} runtime=\${GANGWAY_RUNTIME:-} lock=$lock" >> "$HOOK_LOG"`,
  ].join('\n');
  writeFileSync(join(dir, '.gangway', 'hooks', name), `${record}\n${body}\n`, { mode: 0o755 });
}
const logLines = (): string[] => (existsSync(hookLog) ? readFileSync(hookLog, 'utf8').split('\n').filter(Boolean) : []);
const run = (args: string[], opts: { cwd?: string; onOutput?: (t: string) => void } = {}) =>
  gangway(args, { cwd: opts.cwd ?? project, env: { HOOK_LOG: hookLog }, timeoutMs: 150_000, ...(opts.onOutput ? { onOutput: opts.onOutput } : {}) });

describe('hooks (docs/hooks.md)', () => {
  beforeAll(async () => {
    await resetHosts(info);
    for (const v of ['1.0.0', '2.0.0']) await pushHello(info, REPO, v);
    project = writeProject(info, { repo: REPO });
    hookLog = join(project, 'hooks.log');
  }, 300_000);

  afterAll(async () => {
    await resetHosts(info);
    rmSync(project, { recursive: true, force: true });
  });

  it('setup: pre-connect before any host is contacted, then pre-deploy and post-deploy under the lock, with GANGWAY_*', async () => {
    for (const name of ['pre-connect', 'pre-deploy', 'post-deploy']) hook(project, name);
    const r = await run(['--json', 'setup', '--version', '1.0.0']);
    expect(r.code, r.output).toBe(0);
    const events = eventsOf(r);
    // Nothing happened before pre-connect but pre-connect: the first host step comes after it.
    const preConnected = at(events, 'hook pre-connect', 'done');
    expect(preConnected).toBeGreaterThanOrEqual(0);
    expect(events.slice(0, preConnected).filter((e) => e.type === 'step').map((e) => e.step)).toEqual(['hook pre-connect']);
    expect(at(events, 'hook pre-deploy', 'start')).toBeGreaterThan(at(events, 'lock', 'done'));
    expect(at(events, 'hook pre-deploy', 'done')).toBeLessThan(at(events, 'pull', 'start'));
    expect(at(events, 'hook post-deploy', 'start')).toBeGreaterThan(lastAt(events, 'switch', 'done'));
    expect(events.filter((e) => e.type === 'done')).toEqual([expect.objectContaining({ ok: true, exitCode: 0 })]);
    const lines = logLines();
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('pre-connect cmd=setup version=1.0.0 hosts=vm1,vm2,vm3 roles=web,workers service=hello image= runtime= lock=free');
    expect(lines[1]).toBe('pre-deploy cmd=setup version=1.0.0 hosts=vm1,vm2,vm3 roles=web,workers service=hello image= runtime= lock=held');
    expect(lines[2]).toMatch(/^post-deploy cmd=setup version=1\.0\.0 hosts=vm1,vm2,vm3 roles=web,workers service=hello image= runtime=\d+ lock=held$/);
  });

  it('two competing deploys: only the one holding the lock runs pre-deploy; a failing post-deploy warns with its output, exit 0, one done', async () => {
    rmSync(hookLog, { force: true });
    const started = join(project, 'pre-deploy.started');
    const go = join(project, 'pre-deploy.go');
    // pre-deploy holds the first deploy inside the lock until the test lets it go (30 s at most).
    hook(project, 'pre-deploy', `touch ${started}\ni=0; while [ ! -e ${go} ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done`);
    hook(project, 'post-deploy', 'echo "notify failed: webhook answered 503" >&2\nexit 7');
    rmSync(join(project, '.gangway', 'hooks', 'pre-connect'));
    const first = run(['--json', 'deploy', '--version', '2.0.0', '-m', 'first']);
    for (let i = 0; i < 600 && !existsSync(started); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(started)).toBe(true);
    const second = await run(['deploy', '--version', '2.0.0', '-m', 'second']);
    writeFileSync(go, '');
    expect(second.code, second.output).toBe(3);
    expect(second.output).toMatch(/lock of hello is held by .* deploying 2\.0\.0: first/);
    const r = await first;
    expect(r.code, r.output).toBe(0);
    expect(logLines().filter((l) => l.startsWith('pre-deploy'))).toEqual([expect.stringMatching(/^pre-deploy cmd=deploy version=2\.0\.0 .* lock=held$/)]);
    const events = eventsOf(r);
    const warnings = events.filter((e) => e.type === 'log' && e.level === 'warn').map((e) => e.message);
    expect(warnings).toContainEqual(expect.stringContaining('hook post-deploy failed with exit code 7'));
    expect(warnings).toContain('  notify failed: webhook answered 503');
    const done = events.filter((e) => e.type === 'done');
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ ok: true, exitCode: 0 });
    expect(done[0]!.message).toMatch(/^deployed 2\.0\.0 on vm1, vm2, vm3 .*warning: hook post-deploy failed with exit code 7/);
    expect((await getThroughProxy(info, 'vm1')).body).toBe('hello from 2.0.0');
    expect((await run(['lock', 'status'])).output).toContain('free');
  });

  it('a failing pre-connect stops the command before any host is contacted; unknown hooks are named', async () => {
    hook(project, 'pre-connect', 'echo "vpn is down" >&2\nexit 1');
    hook(project, 'pre-rollback');
    const r = await run(['--json', 'deploy', '--version', '1.0.0']);
    expect(r.code, r.output).toBe(1);
    const events = eventsOf(r);
    expect(events.filter((e) => e.type === 'step').map((e) => `${e.step} ${e.status}`)).toEqual(['hook pre-connect start', 'hook pre-connect fail']);
    expect(r.output).toContain('vpn is down');
    expect(r.output).toContain('.gangway/hooks/pre-rollback is not a hook gangway runs');
    expect(events.filter((e) => e.type === 'done')).toEqual([expect.objectContaining({ ok: false, exitCode: 1 })]);
    expect((await getThroughProxy(info, 'vm1')).body).toBe('hello from 2.0.0');
    rmSync(join(project, '.gangway', 'hooks'), { recursive: true });
  });

  it('gangway build: pre-build before the build, post-build after it and before the push; a failing one keeps the image unpublished', async () => {
    const api = `127.0.0.1:${info.registry.localPort}`;
    const repo = `hooks-it-${randomBytes(3).toString('hex')}/app`;
    const app = makeApp({ image: `${api}/${repo}` });
    rmSync(hookLog, { force: true });
    try {
      hook(app, 'pre-build');
      hook(app, 'post-build');
      setAppVersion(app, '1.0.0');
      const ok = await run(['--json', 'build', '--version', '1.0.0', '--push'], { cwd: app });
      expect(ok.code, ok.output).toBe(0);
      const events = eventsOf(ok);
      expect(at(events, 'hook pre-build', 'done')).toBeLessThan(at(events, 'build', 'start'));
      expect(at(events, 'hook post-build', 'start')).toBeGreaterThan(at(events, 'build', 'done'));
      expect(at(events, 'hook post-build', 'done')).toBeLessThan(events.findIndex((e) => e.type === 'step' && /push/.test(e.step ?? '')));
      expect(logLines()).toEqual([
        `pre-build cmd=build version=1.0.0 hosts= roles= service=hello image=${api}/${repo}:1.0.0 runtime= lock=free`,
        `post-build cmd=build version=1.0.0 hosts= roles= service=hello image=${api}/${repo}:1.0.0 runtime= lock=free`,
      ]);

      hook(app, 'post-build', 'echo "scan found CVE-0000-0001" >&2\nexit 2');
      setAppVersion(app, '1.0.1');
      const scanned = await run(['build', '--version', '1.0.1', '--push'], { cwd: app });
      expect(scanned.code).toBe(1);
      expect(scanned.output).toContain('scan found CVE-0000-0001');

      hook(app, 'pre-build', 'exit 1');
      const refused = await run(['--json', 'build', '--version', '1.0.2', '--push'], { cwd: app });
      expect(refused.code).toBe(1);
      expect(at(eventsOf(refused), 'build', 'start')).toBe(-1);
      expect(await remoteTags(api, repo)).toEqual(['1.0.0']);
    } finally {
      await removeLocalImages(`${api}/${repo}`);
      rmSync(app, { recursive: true, force: true });
    }
  });
});
