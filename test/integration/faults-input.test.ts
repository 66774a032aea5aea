// Issue 5, scenarios 8 and 9 on the sandbox. Bad input never half-applies: a deploy with an
// invalid config, flag or version exits 2 and touches no host (container lists, proxy config,
// audit log and lock compared before and after). Secrets: with --verbose and --json on every
// command, the secret value appears nowhere — stdout, stderr, the audit log, container labels,
// and the argv of every process on the hosts and on this machine, sampled while commands run.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify, parse } from 'yaml';
import { gangway, onHost, resetHosts, TEST_SECRET, writeProject, type CliResult } from './helpers/deploy.js';
import { ALL_HOSTS, auditLines, containerList, faultProject } from './helpers/faults.js';

const info = inject('sandbox');
const REPO = 'faults-input/hello';
let project: string;
const run = (args: string[], opts: { timeoutMs?: number; cwd?: string } = {}) => gangway(args, { cwd: opts.cwd ?? project, timeoutMs: opts.timeoutMs ?? 150_000 });

/** Everything a command could have changed on the hosts. */
async function hostsSnapshot(): Promise<string[]> {
  const parts = await Promise.all(
    ALL_HOSTS.map(async (h) => [
      `${h} containers: ${(await containerList(info, h)).join(', ')}`,
      `${h} audit: ${(await auditLines(info, h)).length} lines`,
      `${h} proxy config: ${await onHost(info, h, 'md5sum /var/lib/gangway/proxy/haproxy.cfg 2>/dev/null')}`,
      `${h} state files: ${await onHost(info, h, 'find /var/lib/gangway -type f | sort | xargs -r md5sum')}`,
    ]),
  );
  return parts.flat();
}

function projectWith(edit: (config: Record<string, unknown>) => void): string {
  const dir = writeProject(info, { repo: REPO });
  const file = join(dir, 'gangway.yml');
  const config = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(config);
  writeFileSync(file, stringify(config));
  return dir;
}

describe('bad input and secrets on the sandbox', () => {
  beforeAll(async () => {
    project = await faultProject(info, { repo: REPO, versions: ['1.0.0', '2.0.0', ['3.0.0', 'uptest-fails']] });
  }, 600_000);

  afterAll(async () => {
    await resetHosts(info);
  });

  const BAD: Array<{ name: string; args: () => string[]; cwd?: () => string; expect: RegExp }> = [
    { name: 'an unknown key in the config', args: () => ['deploy', '--version', '2.0.0'], cwd: () => projectWith((c) => { c.drain_timeuot = '5s'; }), expect: /gangway\.yml:\d+:\d+ .*drain_timeuot/ },
    { name: 'a value of the wrong type', args: () => ['deploy', '--version', '2.0.0'], cwd: () => projectWith((c) => { c.retain = 'many'; }), expect: /gangway\.yml:\d+:\d+ retain/ },
    { name: 'a role with no hosts', args: () => ['deploy', '--version', '2.0.0'], cwd: () => projectWith((c) => { (c.servers as Record<string, { hosts: string[] }>).web!.hosts = []; }), expect: /gangway\.yml:\d+:\d+ servers\.web\.hosts/ },
    { name: 'YAML that does not parse', args: () => ['deploy', '--version', '2.0.0'], cwd: () => { const d = writeProject(info, { repo: REPO }); writeFileSync(join(d, 'gangway.yml'), `${readFileSync(join(d, 'gangway.yml'), 'utf8')}\nservers: [oops\n`); return d; }, expect: /gangway\.yml:\d+:\d+ invalid YAML/ },
    { name: 'a bad --lock-wait', args: () => ['deploy', '--version', '2.0.0', '--lock-wait', 'soon'], expect: /--lock-wait soon/ },
    { name: 'a missing destination file', args: () => ['deploy', '--version', '2.0.0', '-d', 'nowhere'], expect: /gangway\.nowhere\.yml/ },
  ];

  for (const bad of BAD) {
    it(`a deploy with ${bad.name} exits 2 and touches no host`, async () => {
      const before = await hostsSnapshot();
      const r = await run(bad.args(), bad.cwd ? { cwd: bad.cwd() } : {});
      expect(r.code, r.output).toBe(2);
      expect(r.output).toMatch(bad.expect);
      expect(await hostsSnapshot()).toEqual(before);
    });
  }

  it('with --verbose --json on every command, no secret value anywhere', async () => {
    const sampled = new Set<string>();
    let sampling = true;
    // argv of every process on every host (inner containers included) and on this machine.
    const sampler = (async () => {
      while (sampling) {
        for (const h of ALL_HOSTS) sampled.add(await onHost(info, h, "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f 2>/dev/null; echo; done"));
        sampled.add(localArgv());
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const results: Array<{ args: string[]; r: CliResult }> = [];
    const commands: string[][] = [
      ['config'],
      ['hosts', 'check'],
      ['deploy', '--version', '2.0.0', '-m', 'secret test'],
      ['deploy', '--version', '3.0.0'],
      ['status'],
      ['history'],
      ['audit'],
      ['lock', 'status'],
      ['logs', '-n', '20'],
      ['exec', '--host', 'vm1', '--', 'sh', '-c', 'echo "the secret is $HELLO_SECRET"'],
      ['exec', '--reuse', '--host', 'vm2', '--', 'sh', '-c', 'echo "the secret is $HELLO_SECRET"'],
      ['rollback'],
    ];
    try {
      for (const args of commands) results.push({ args, r: await run([...args, '--verbose', '--json']) });
    } finally {
      sampling = false;
      await sampler;
    }
    // The commands did run (a failing one fails for its own reason, not for a leak check).
    const byName = (a: string) => results.find((x) => x.args.join(' ').startsWith(a))!.r;
    expect(byName('deploy --version 2.0.0').code, byName('deploy --version 2.0.0').output).toBe(0);
    expect(byName('deploy --version 3.0.0').code).toBe(1);
    expect(byName('exec --host vm1').output).toContain('the secret is [redacted]');

    const leaks: string[] = [];
    for (const { args, r } of results) {
      if (r.stdout.includes(TEST_SECRET)) leaks.push(`stdout of ${args.join(' ')}`);
      if (r.stderr.includes(TEST_SECRET)) leaks.push(`stderr of ${args.join(' ')}`);
    }
    for (const h of ALL_HOSTS) {
      if ((await auditLines(info, h)).some((l) => l.includes(TEST_SECRET))) leaks.push(`audit log on ${h}`);
      const labels = await onHost(info, h, "docker ps -aq | xargs -r docker inspect --format '{{.Name}} {{json .Config.Labels}}'");
      if (labels.includes(TEST_SECRET)) leaks.push(`container labels on ${h}`);
      // The env file holds it, by design, 0600; no other state file does.
      const files = await onHost(info, h, `grep -rl -- '${TEST_SECRET}' /var/lib/gangway 2>/dev/null`);
      for (const f of files.split('\n').filter(Boolean)) {
        if (!f.startsWith('/var/lib/gangway/env/')) leaks.push(`${f} on ${h}`);
        else expect((await onHost(info, h, `stat -c %a ${f}`)).trim()).toBe('600');
      }
    }
    for (const argv of sampled) if (argv.includes(TEST_SECRET)) leaks.push(`a process argv: ${argv.split('\n').find((l) => l.includes(TEST_SECRET))!.replaceAll(TEST_SECRET, '<SECRET>')}`);
    expect(leaks).toEqual([]);
    expect(sampled.size).toBeGreaterThan(10);
  });
});

function localArgv(): string {
  const lines: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      lines.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
    } catch {
      // gone meanwhile
    }
  }
  return lines.join('\n');
}
