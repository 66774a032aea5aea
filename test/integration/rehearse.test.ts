// `gangway rehearse` against the seed's three failure patterns (test-driven infrastructure: test
// a fresh deployment AND an upgrade, and prove both end in the same state), plus a clean change.
// "Production" is vm1 of the shared sandbox; each rehearsal makes two throwaway sandboxes of its
// own (bare hosts for the fresh side) and removes them.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { gangway, getThroughProxy, pushHello, resetHosts, writeProject } from './helpers/deploy.js';

const info = inject('sandbox');
const REPO = 'rehearse-it/hello';
let project: string;

const run = (args: string[]) => gangway(args, { cwd: project, timeoutMs: 400_000 });

async function rehearsalSandboxes(): Promise<string[]> {
  const list = await new Docker().listContainers({ all: true, filters: { label: ['gangway.sandbox'] } });
  return list.map((c) => c.Labels['gangway.sandbox']!).filter((id) => id.startsWith('rh-'));
}

describe('rehearse: fresh hosts vs an upgrade', () => {
  beforeAll(async () => {
    await resetHosts(info);
    for (const [version, variant] of [['1.0.0', 'ok'], ['2.0.0', 'ok'], ['seeds', 'seeds-data'], ['needs-seed', 'needs-seed'], ['format-2', 'format-2']] as const) {
      await pushHello(info, REPO, version, variant);
    }
    project = writeProject(info, { repo: REPO });
    // One production host carries both roles, so each rehearsal side is one throwaway host.
    const file = join(project, 'gangway.yml');
    const config = parse(readFileSync(file, 'utf8')) as Record<string, any>;
    config.servers = { web: { hosts: ['vm1'] }, workers: { hosts: ['vm1'], cmd: ['/app/worker'] } };
    config.volumes = ['/var/lib/hello/data:/data'];
    config.verify = { roles: { web: [{ port: 80 }, { file: '/var/lib/gangway/env/hello-web.env', mode: '0600' }, { directory: '/var/lib/gangway/env', mode: '0700' }] } };
    config.hosts = { vm1: config.hosts.vm1 };
    writeFileSync(file, stringify(config));
    const setup = await run(['setup', '--version', '1.0.0']);
    expect(setup.code, setup.output).toBe(0);
  }, 600_000);

  afterAll(async () => {
    await resetHosts(info);
  });

  it('a clean change rehearses as "same state", from the version production serves, without touching production', async () => {
    const r = await run(['rehearse', '--version', '2.0.0']);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('upgrade from 1.0.0: deployed 2.0.0');
    expect(r.output).toContain('same state: 2.0.0 rehearsed fresh and as an upgrade from 1.0.0');
    // The fresh side really started from bare hosts: setup installed Docker there.
    expect(r.output).toMatch(/fresh:vm1.*docker/i);
    expect((await getThroughProxy(info, 'vm1')).body).toBe('hello from 1.0.0');
    expect(await rehearsalSandboxes()).toEqual([]);
  });

  it('(1) works as an upgrade but fails on a fresh host: caught, naming the cause', async () => {
    const r = await run(['rehearse', '--version', 'needs-seed', '--from', 'seeds']);
    expect(r.code).toBe(1);
    expect(r.output).toContain('fresh hosts (setup + deploy): FAILED');
    expect(r.output).toContain('upgrade from seeds: deployed needs-seed');
    expect(r.output).toContain('/data/seed is missing (only an earlier version creates it)');
    expect(r.output).toContain('rehearsal of needs-seed failed on fresh hosts (setup + deploy)');
  });

  it('(2) works fresh but fails as an upgrade: caught, naming the cause', async () => {
    const r = await run(['rehearse', '--version', 'format-2', '--from', 'seeds']);
    expect(r.code).toBe(1);
    expect(r.output).toContain('fresh hosts (setup + deploy): deployed format-2');
    expect(r.output).toContain('upgrade from seeds: FAILED');
    expect(r.output).toContain('/data holds data format 1; this version reads format 2 only');
  });

  it('(3) both succeed but end in different states: every difference, host by host', async () => {
    const r = await run(['rehearse', '--version', '2.0.0', '--from', 'seeds']);
    expect(r.code).toBe(1);
    expect(r.output).toContain('[vm1] file /var/lib/hello/data/format only on upgrade');
    expect(r.output).toContain('[vm1] file /var/lib/hello/data/seed only on upgrade');
    expect(r.output).toMatch(/fresh and upgraded hosts differ in \d+ way\(s\)/);
    expect(await rehearsalSandboxes()).toEqual([]);
  });
});
