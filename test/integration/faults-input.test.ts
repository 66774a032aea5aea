// Issue 5, scenarios 8 and 9 on the sandbox. Bad input never half-applies: a deploy with an
// invalid config, flag or version exits 2 and touches no host (container lists, proxy config,
// audit log and lock compared before and after). Secrets: with --verbose and --json on every
// command, the secret value appears nowhere — stdout, stderr, the audit log, container labels,
// and the argv of every program started on the hosts and on this machine while the commands run
// (sshd traced with strace, the engines' requests from their debug log; none can be missed, and a
// control proves the recording sees a secret in an argument). The same for a TLS private key
// (issue 15): a service with its own certificate from two gangway secrets is deployed among the
// commands, and no line of its key shows anywhere but in its certificate file (0600).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify, parse } from 'yaml';
import { gangway, onHost, resetHosts, TEST_SECRET, writeProject, type CliResult } from './helpers/deploy.js';
import { engineStarts, localTracePrefix, recordEngineLog, traceSshSessions, type Recording } from './helpers/process-audit.js';
import { ALL_HOSTS, auditLines, containerList, faultProject } from './helpers/faults.js';

const info = inject('sandbox');
const REPO = 'faults-input/hello';
/** The program the control asks an engine to run with the secret as its argument. */
const CONTROL_PROGRAM = '/bin/true';
/** How the CLI's entry point shows in an execve line. */
const BIN_NAME = 'bin/gangway.js';
let project: string;
const run = (args: string[], opts: { timeoutMs?: number; cwd?: string; prefix?: string[]; env?: Record<string, string> } = {}) =>
  gangway(args, { cwd: opts.cwd ?? project, timeoutMs: opts.timeoutMs ?? 150_000, ...(opts.prefix ? { prefix: opts.prefix } : {}), ...(opts.env ? { env: opts.env } : {}) });

/** The TLS service: its own certificate (TLS_CERT, TLS_KEY: gangway secrets) for one name on vm1 and vm2. */
const TLS_NAME = 'faults-tls.test';
const TLS_CERTS = '/var/lib/gangway/proxy/certs';

/** A self-signed certificate for TLS_NAME with an RSA key: many base64 lines, each one searched for. */
function makeTlsSecrets(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gangway-faults-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', `/CN=${TLS_NAME}`, '-addext', `subjectAltName=DNS:${TLS_NAME}`], { stdio: 'ignore' });
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What of a private key is searched for: its whole base64 body, and each of its full lines. */
function keyNeedles(key: string): string[] {
  const lines = key.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('-----'));
  return [lines.join(''), ...lines.filter((l) => l.length === 64)];
}

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

  // A test that times out never reaches its finally: detach strace and end debug logging here.
  const unstopped: Recording[] = [];
  afterAll(async () => {
    for (const r of unstopped) await r.stop().catch(() => {});
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
    // Every program gangway had started while the commands ran: on each host through sshd (the
    // sessions and all they start) and through the engine (each container and exec request),
    // and on this machine (the CLI and its children). See helpers/process-audit.ts.
    const recordings = new Map<string, { ssh: Recording; engine: Recording }>();
    const local: string[] = [];
    const results: Array<{ args: string[]; r: CliResult }> = [];
    const tls = makeTlsSecrets();
    const tlsEnv = { TLS_CERT: tls.cert, TLS_KEY: tls.key };
    const tlsProject = writeProject(info, {
      service: 'tlsfaults',
      repo: REPO,
      extra: {
        servers: { web: { hosts: ['vm1', 'vm2'] } },
        proxy: { ...(parse(readFileSync(join(project, 'gangway.yml'), 'utf8')) as { proxy: Record<string, unknown> }).proxy, hosts: [TLS_NAME], ssl: { certificate_pem: 'TLS_CERT', private_key_pem: 'TLS_KEY' } },
      },
    });
    const tlsCommands: string[][] = [
      ['deploy', '--version', '2.0.0', '-m', 'tls secret test'],
      ['status'],
    ];
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
    const ssh = new Map<string, string[]>();
    const engine = new Map<string, string[]>();
    // Every message of each engine (requests, JSON bodies with Env): where the key is looked for.
    const engineAll = new Map<string, string[]>();
    try {
      for (const h of ALL_HOSTS) {
        const r = { ssh: await traceSshSessions(info, h), engine: await recordEngineLog(info, h) };
        recordings.set(h, r);
        unstopped.push(r.ssh, r.engine);
      }
      const runTraced = async (args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) => {
        const trace = localTracePrefix();
        // The flags go before a `--`: after it they would be the container's command.
        const dash = args.indexOf('--');
        const withFlags = dash < 0 ? [...args, '--verbose', '--json'] : [...args.slice(0, dash), '--verbose', '--json', ...args.slice(dash)];
        results.push({ args, r: await run(withFlags, { prefix: trace.prefix, ...opts }) });
        local.push(...trace.read());
      };
      for (const args of commands) await runTraced(args);
      for (const args of tlsCommands) await runTraced(args, { cwd: tlsProject, env: tlsEnv });
      // The control: a request with the secret in a program's arguments, made to vm1's engine
      // by hand. The recording must show it, or it could not show gangway doing the same.
      await onHost(info, 'vm1', `docker exec "$(docker ps -q --filter label=gangway.service=hello | head -1)" ${CONTROL_PROGRAM} ${TEST_SECRET}`);
    } finally {
      for (const [h, r] of recordings) {
        ssh.set(h, await r.ssh.stop());
        const messages = await r.engine.stop();
        engineAll.set(h, messages);
        engine.set(h, engineStarts(messages));
      }
      rmSync(tlsProject, { recursive: true, force: true });
    }
    // The commands did run (a failing one fails for its own reason, not for a leak check).
    const byName = (a: string) => results.find((x) => x.args.join(' ').startsWith(a))!.r;
    expect(byName('deploy --version 2.0.0').code, byName('deploy --version 2.0.0').output).toBe(0);
    expect(byName('deploy --version 3.0.0').code).toBe(1);
    expect(byName('exec --host vm1').output).toContain('the secret is [redacted]');

    // The recordings saw what they must have: the CLI itself here; on every host a command
    // gangway sent over SSH (a session's shell run with -c; the Docker API comes through a socket
    // forward, which starts no program); on each web host the env file written over SSH (the one command a
    // secret travels with, on stdin) and the new version's container created.
    expect(local.some((l) => l.includes(BIN_NAME))).toBe(true);
    for (const h of ALL_HOSTS) expect(ssh.get(h)!.some((l) => l.includes('"-c"')), `${h}: no SSH session recorded`).toBe(true);
    for (const h of ['vm1', 'vm2']) {
      expect(ssh.get(h)!.some((l) => l.includes('/var/lib/gangway/env/')), `${h}: the env file's writer not recorded`).toBe(true);
      expect(engine.get(h)!.some((l) => l.includes('containers/create?name=hello-web-2.0.0')), `${h}: the new container's create not recorded`).toBe(true);
    }
    const control = engine.get('vm1')!.filter((l) => l.includes(CONTROL_PROGRAM) && l.includes(TEST_SECRET));
    expect(control, 'the control (a secret in an exec\'s arguments) was not recorded').toHaveLength(1);

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
    const startLeaks = (where: string, lines: string[]) => {
      for (const l of lines) if (l.includes(TEST_SECRET) && !control.includes(l)) leaks.push(`${where}: ${l.replaceAll(TEST_SECRET, '<SECRET>')}`);
    };
    startLeaks('a program started on this machine', local);
    for (const h of ALL_HOSTS) {
      startLeaks(`a program started over SSH on ${h}`, ssh.get(h)!);
      startLeaks(`a request to the engine on ${h}`, engine.get(h)!);
    }
    expect(leaks).toEqual([]);

    // The private key. The TLS deploy did run and install it, and the recordings saw its steps: the
    // file's rename over SSH and its upload to the proxy container through the engine.
    const tlsDeploy = results.find((x) => x.args.includes('tls secret test'))!.r;
    expect(tlsDeploy.code, tlsDeploy.output).toBe(0);
    const needles = keyNeedles(tls.key);
    expect(needles.length).toBeGreaterThan(10);
    const hasKey = (text: string) => needles.some((n) => text.includes(n));
    const keyLeaks: string[] = [];
    for (const h of ['vm1', 'vm2']) {
      expect(ssh.get(h)!.some((l) => l.includes(`${TLS_NAME}.pem`)), `${h}: the certificate file's rename not recorded`).toBe(true);
      expect(engineAll.get(h)!.some((l) => /Calling PUT \S*\/containers\/gangway-proxy\/archive/.test(l)), `${h}: the certificate's upload not recorded`).toBe(true);
      const file = `${TLS_CERTS}/${TLS_NAME}.pem`;
      expect((await onHost(info, h, `stat -c '%a %u' ${file}`)).trim(), `${h}: ${file}`).toBe('600 80080');
      expect(hasKey(await onHost(info, h, `cat ${file}`)), `${h}: the key is not in its file`).toBe(true);
    }
    for (const { args, r } of results) {
      if (hasKey(r.stdout)) keyLeaks.push(`stdout of ${args.join(' ')}`);
      if (hasKey(r.stderr)) keyLeaks.push(`stderr of ${args.join(' ')}`);
    }
    for (const h of ALL_HOSTS) {
      if ((await auditLines(info, h)).some(hasKey)) keyLeaks.push(`audit log on ${h}`);
      // Labels, environments, commands, mounts: all of every container.
      if (hasKey(await onHost(info, h, 'docker ps -aq | xargs -r docker inspect'))) keyLeaks.push(`docker inspect on ${h}`);
      const files = await onHost(info, h, `grep -rlF -e '${needles[1]}' /var/lib/gangway 2>/dev/null`);
      for (const f of files.split('\n').filter(Boolean)) if (f !== `${TLS_CERTS}/${TLS_NAME}.pem`) keyLeaks.push(`${f} on ${h}`);
      for (const l of ssh.get(h)!) if (hasKey(l)) keyLeaks.push(`a program started over SSH on ${h}`);
      for (const l of engineAll.get(h)!) if (hasKey(l)) keyLeaks.push(`the engine's log on ${h}: ${needles.reduce((t, n) => t.replaceAll(n, '<KEY>'), l).slice(0, 160)}`);
    }
    for (const l of local) if (hasKey(l)) keyLeaks.push('a program started on this machine');
    expect(keyLeaks).toEqual([]);
  }, 500_000);
});
