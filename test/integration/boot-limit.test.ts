// Issue 12 item 7: boot.limit holds for every role, not the primary one only. Web (proxied) and
// workers on all three hosts; a setup at 50 % and a deploy at 1 host at a time. The CLI's own
// NDJSON stream, in emission order, says when each (host, role) started its new container and
// when it switched: between the two, it counts against its role's limit.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { gangway, getThroughProxy, pushHello, resetHosts, writeProject, type CliResult } from './helpers/deploy.js';

const info = inject('sandbox');
const REPO = 'boot-limit-it/hello';
const HOSTS = ['vm1', 'vm2', 'vm3'];
const projects: string[] = [];

interface StepEvent { type: string; step?: string; status?: string; host?: string; role?: string }

/** Per role: the most (host, role)s that were between `start` and `switch` at one moment. */
function mostAtOnce(r: CliResult): Record<string, number> {
  const events = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as StepEvent);
  const inFlight: Record<string, Set<string>> = {};
  const most: Record<string, number> = {};
  for (const e of events) {
    if (e.type !== 'step' || !e.role || !e.host) continue;
    const set = (inFlight[e.role] ??= new Set());
    if (e.step === 'start' && e.status === 'start') set.add(e.host);
    if (e.step === 'switch' && e.status === 'done') {
      expect(set.has(e.host), `${e.host} ${e.role} switched without starting`).toBe(true);
      set.delete(e.host);
    }
    most[e.role] = Math.max(most[e.role] ?? 0, set.size);
  }
  return most;
}

/** A project with web and workers on every host, booting `limit` hosts of a role at once. */
function projectWith(limit: string | number): string {
  const dir = writeProject(info, { repo: REPO, extra: { servers: { web: { hosts: HOSTS }, workers: { hosts: HOSTS, cmd: ['/app/worker'] } }, boot: { limit, wait: '0s' } } });
  projects.push(dir);
  return dir;
}

describe('boot.limit applies to every role', () => {
  beforeAll(async () => {
    await resetHosts(info);
    for (const v of ['1.0.0', '2.0.0']) await pushHello(info, REPO, v);
  }, 300_000);

  afterAll(async () => {
    await resetHosts(info);
    for (const dir of projects) rmSync(dir, { recursive: true, force: true });
  });

  it('50 %: at most 2 of the 3 hosts of each role between start and switch, and the limit is reached', async () => {
    const cwd = projectWith('50%');
    const dry = await gangway(['deploy', '--version', '1.0.0', '--dry-run'], { cwd });
    expect(dry.output).toContain('web: [vm1, vm2] then [vm3]');
    expect(dry.output).toContain('workers: [vm1, vm2] then [vm3]');
    const r = await gangway(['--json', 'setup', '--version', '1.0.0'], { cwd, timeoutMs: 180_000 });
    expect(r.code, r.output).toBe(0);
    expect(mostAtOnce(r)).toEqual({ web: 2, workers: 2 });
  });

  it('1 host at a time: never two hosts of a role between start and switch', async () => {
    const r = await gangway(['--json', 'deploy', '--version', '2.0.0'], { cwd: projectWith(1), timeoutMs: 180_000 });
    expect(r.code, r.output).toBe(0);
    expect(mostAtOnce(r)).toEqual({ web: 1, workers: 1 });
    for (const host of HOSTS) expect((await getThroughProxy(info, host)).body).toBe('hello from 2.0.0');
  });
});
