// Host connections against the shared sandbox: `hosts check` over SSH with the Docker API on the
// same connection, host key refusal, an unreachable host, localhost without SSH, and exactly one
// SSH connection per host for a whole command, counted on both ends.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SandboxHost, SandboxInfo } from '../../src/sandbox/types.js';
import { HostPool, openHosts, type HostTarget, type SshConnectOptions } from '../../src/hosts/pool.js';
import type { HostCheckResult } from '../../src/hosts/check.js';
import { parseKnownHosts } from '../../src/hosts/known-hosts.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const CONNECT_TIMEOUT_MS = 2000;
// A key no sandbox host has: what known_hosts holds for a host whose key "changed".
const FOREIGN_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJzRIsmxiNqq+XegnBfdXFRi5TFeG324DO7znv/6/icw';

let sandbox: SandboxInfo;
let workDir: string;

beforeAll(() => {
  sandbox = inject('sandbox');
  workDir = mkdtempSync(join(tmpdir(), 'gangway-hosts-'));
});
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

const hostLine = (h: SandboxHost) => `[${h.address}]:${h.sshPort}`;

/** A gangway.yml pointing at the sandbox hosts (plus extra host names such as localhost). */
function writeConfig(name: string, opts: { knownHostsPath?: string; trustOnFirstUse?: boolean; extraHosts?: string[] } = {}): string {
  const hostNames = [...sandbox.hosts.map((h) => h.name), ...(opts.extraHosts ?? [])];
  const lines = [
    'service: hostscheck',
    'image: registry:5000/hostscheck',
    'servers:',
    `  web: { hosts: [${hostNames.join(', ')}] }`,
    'hosts:',
    ...sandbox.hosts.map((h) => `  ${h.name}: { address: "${h.address}", port: ${h.sshPort} }`),
    'ssh:',
    '  user: root',
    `  identity: ${sandbox.keyPath}`,
    `  known_hosts: ${opts.knownHostsPath ?? sandbox.knownHostsPath}`,
    `  trust_on_first_use: ${opts.trustOnFirstUse ?? false}`,
    `  connect_timeout: ${CONNECT_TIMEOUT_MS}ms`,
    '  config: false',
  ];
  const dir = join(workDir, name);
  execFileSync('mkdir', ['-p', dir]);
  const file = join(dir, 'gangway.yml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

interface CliRun {
  code: number;
  results: HostCheckResult[];
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** Runs `gangway --json <args>` from source in a child process and collects its result events. */
function gangway(args: string[]): Promise<CliRun> {
  const script = `import(${JSON.stringify(join(repoRoot, 'src/cli/main.ts'))}).then((m) => m.main(process.argv)).then((c) => { process.exitCode = c; })`;
  const start = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', '-e', script, 'gangway', '--json', ...args], { cwd: repoRoot, timeout: 120_000 }, (err, stdout, stderr) => {
      const results = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { type: string; kind?: string; data?: HostCheckResult })
        .filter((e) => e.type === 'result' && e.kind === 'hosts-check')
        .map((e) => e.data!);
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, results, stdout, stderr, elapsedMs: performance.now() - start });
    });
  });
}

const byHost = (run: CliRun) => new Map(run.results.map((r) => [r.host, r]));

/**
 * Established TCP connections to the host's sshd from outside the host, counted inside the host
 * container (the runner's connections arrive through the published port, never from loopback).
 */
function sshdConnections(host: SandboxHost): number {
  const out = execFileSync('docker', ['exec', host.containerId, 'ss', '-Htn', 'state', 'established', '( sport = :22 and not dst 127.0.0.1 )'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim() !== '').length;
}

function sandboxTargets(): HostTarget[] {
  return sandbox.hosts.map((h) => ({ name: h.name, address: h.address, port: h.sshPort, user: 'root', identityFile: sandbox.keyPath, local: false }));
}

const sshOptions = (over: Partial<SshConnectOptions> = {}): SshConnectOptions => ({
  knownHostsPath: sandbox.knownHostsPath,
  trustOnFirstUse: false,
  connectTimeoutMs: CONNECT_TIMEOUT_MS,
  keepaliveIntervalMs: 15_000,
  ...over,
});

/** A copy of the sandbox known_hosts with one host's lines replaced (or dropped). */
function knownHostsWith(name: string, host: SandboxHost, replacement: string | undefined): string {
  const original = readFileSync(sandbox.knownHostsPath, 'utf8');
  const kept = original.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(`${hostLine(host)} `));
  if (replacement) kept.push(`${hostLine(host)} ${replacement}`);
  const path = join(workDir, `${name}.known_hosts`);
  writeFileSync(path, `${kept.join('\n')}\n`, { mode: 0o600 });
  return path;
}

describe('hosts check', () => {
  it('reaches every sandbox host over SSH and runs a container on each through the Docker API over that connection; localhost needs no SSH', async () => {
    const config = writeConfig('all', { extraHosts: ['localhost'] });
    const run = await gangway(['-c', config, 'hosts', 'check', '--run-container', '--image', sandbox.images.busybox]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const results = byHost(run);
    for (const h of sandbox.hosts) {
      const r = results.get(h.name)!;
      expect(r, h.name).toMatchObject({ ok: true, transport: 'ssh', container: { image: sandbox.images.busybox, exitCode: 0 } });
      expect(r.dockerVersion).toMatch(/^\d+\.\d+/);
      expect(r.diskFreeBytes).toBeGreaterThan(0);
      // One handshake carried the exec channels and every Docker API stream of the command.
      expect(r.stats).toMatchObject({ connections: 1 });
      expect(r.stats!.dockerStreams).toBeGreaterThanOrEqual(1);
    }
    expect(results.get('localhost')).toMatchObject({ ok: true, transport: 'local', stats: { connections: 0 } });
  });

  it('refuses a host whose key changed, even with trust_on_first_use, and checks the others', async () => {
    const victim = sandbox.hosts[1]!;
    const knownHosts = knownHostsWith('changed', victim, FOREIGN_KEY);
    const run = await gangway(['-c', writeConfig('changed', { knownHostsPath: knownHosts, trustOnFirstUse: true }), 'hosts', 'check']);
    expect(run.code).toBe(1);
    const r = byHost(run).get(victim.name)!;
    expect(r.ok).toBe(false);
    expect(r.error).toContain(`host key for ${hostLine(victim)} (${victim.name}) changed`);
    expect(r.error).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
    expect(r.error).toContain('possible man-in-the-middle');
    for (const other of sandbox.hosts.filter((h) => h !== victim)) expect(byHost(run).get(other.name), other.name).toMatchObject({ ok: true });
    // Nothing was "trusted" over the recorded key: the copy still holds only the foreign one.
    const recorded = parseKnownHosts(readFileSync(knownHosts, 'utf8')).filter((e) => e.patterns.includes(hostLine(victim)));
    expect(recorded.map((e) => `${e.keyType} ${e.key.toString('base64')}`)).toEqual([FOREIGN_KEY]);
  });

  it('refuses an unknown host with its fingerprint and how to trust it, and records it with trust_on_first_use', async () => {
    const newcomer = sandbox.hosts[2]!;
    const knownHosts = knownHostsWith('unknown', newcomer, undefined);

    const strict = await openHosts(sandboxTargets(), sshOptions({ knownHostsPath: knownHosts }));
    const refusal = strict.failures.get(newcomer.name);
    expect(refusal?.message).toMatch(new RegExp(`host key for \\[${newcomer.address.replace(/\./g, '\\.')}\\]:${newcomer.sshPort} \\(${newcomer.name}\\) is unknown: it presented \\S+ SHA256:`));
    expect(refusal?.hint).toContain('trust_on_first_use');
    expect(strict.hosts.size).toBe(sandbox.hosts.length - 1);
    await Promise.all([...strict.hosts.values()].map((h) => h.close()));

    const tofu = await openHosts(sandboxTargets(), sshOptions({ knownHostsPath: knownHosts, trustOnFirstUse: true }));
    expect(tofu.failures.size).toBe(0);
    await Promise.all([...tofu.hosts.values()].map((h) => h.close()));
    const recorded = parseKnownHosts(readFileSync(knownHosts, 'utf8')).filter((e) => e.patterns.includes(hostLine(newcomer)));
    expect(recorded).toHaveLength(1);
    // The recorded key is the one the sandbox itself wrote for that host.
    const original = parseKnownHosts(readFileSync(sandbox.knownHostsPath, 'utf8')).filter((e) => e.patterns.includes(hostLine(newcomer)));
    expect(original.some((e) => e.key.equals(recorded[0]!.key))).toBe(true);
  });

  it('reports a host that is down as unreachable within the connect timeout while the others succeed', async () => {
    const down = sandbox.hosts[0]!;
    execFileSync('docker', ['pause', down.containerId]);
    let run: CliRun;
    try {
      run = await gangway(['-c', writeConfig('down'), 'hosts', 'check']);
    } finally {
      execFileSync('docker', ['unpause', down.containerId]);
    }
    expect(run.code).toBe(1);
    const r = byHost(run).get(down.name)!;
    expect(r.ok).toBe(false);
    expect(r.error).toBe(`cannot connect to ${down.name} (${down.address}:${down.sshPort}): unreachable within ${CONNECT_TIMEOUT_MS / 1000}s`);
    for (const other of sandbox.hosts.filter((h) => h !== down)) expect(byHost(run).get(other.name), other.name).toMatchObject({ ok: true });
    // Bounded by the connect timeout, not by TCP's: the whole command (process start included).
    expect(run.elapsedMs).toBeLessThan(CONNECT_TIMEOUT_MS + 8000);
  });
});

describe('one SSH connection per host', () => {
  it('serves exec, Docker API calls and socket forwards of a whole command over one connection, as sshd sees it', async () => {
    const before = new Map(sandbox.hosts.map((h) => [h.name, sshdConnections(h)]));
    const pool = new HostPool(sandboxTargets(), sshOptions());
    try {
      const { failures } = await pool.connectAll();
      expect([...failures.values()].map((e) => e.message)).toEqual([]);
      await Promise.all(
        sandbox.hosts.map(async (h) => {
          const host = await pool.get(h.name);
          const docker = await host.docker();
          // Parallel work: more Docker requests than streams, several execs, two forwards.
          const [execs] = await Promise.all([
            Promise.all(Array.from({ length: 6 }, (_, i) => host.exec(`echo ${i}`))),
            Promise.all(Array.from({ length: 10 }, () => docker.ping())),
            docker.listContainers(),
          ]);
          expect(execs.map((e) => e.stdout.trim())).toEqual(['0', '1', '2', '3', '4', '5']);
          const sock = await host.openUnixSocket('/var/run/docker.sock');
          sock.destroy();
          const tcp = await host.openTcp('127.0.0.1', 22);
          const banner = await new Promise<string>((resolve) => tcp.once('data', (c: Buffer) => resolve(c.toString('utf8'))));
          tcp.destroy();
          expect(banner).toMatch(/^SSH-2\.0-/);
          expect(await pool.get(h.name)).toBe(host);
        }),
      );
      for (const h of sandbox.hosts) {
        // The engine's API came through forwards to its socket: no dial-stdio process started.
        expect(pool.stats().get(h.name), h.name).toMatchObject({ connections: 1, execChannels: 6, forwards: 2, dialStdioStreams: 0 });
        expect(pool.stats().get(h.name)!.dockerStreams, h.name).toBeGreaterThanOrEqual(1);
        // The pool's connection is the only new one (the forward to port 22 comes from loopback).
        expect(sshdConnections(h), h.name).toBe(before.get(h.name)! + 1);
      }
    } finally {
      await pool.closeAll();
    }
  });
});

describe("the engine's API for a user who cannot reach /var/run/docker.sock", () => {
  it('comes through `docker system dial-stdio`, which follows the user\'s docker context', async () => {
    const host = sandbox.hosts[0]!;
    const onVm = (command: string) => execFileSync('docker', ['exec', host.containerId, 'sh', '-c', command], { encoding: 'utf8' });
    // A deploy user outside the docker group whose engine is at another socket (as a rootless
    // engine would be): a relay owned by that user in front of the host's engine.
    const user = 'gwrelay';
    const relay = `/run/${user}-engine.sock`;
    onVm([
      `{ id ${user} >/dev/null 2>&1 || useradd -m ${user}; }`,
      `rm -f ${relay}`,
      `install -d -o ${user} -m 700 /home/${user}/.ssh`,
      `install -o ${user} -m 600 /root/.ssh/authorized_keys /home/${user}/.ssh/authorized_keys`,
      `(setsid socat UNIX-LISTEN:${relay},fork,user=${user},mode=600 UNIX-CONNECT:/var/run/docker.sock </dev/null >/dev/null 2>&1 & echo $! > /run/${user}-relay.pid)`,
      `HOME=/home/${user} docker context create relay --docker host=unix://${relay} >/dev/null 2>&1`,
      `HOME=/home/${user} docker context use relay >/dev/null 2>&1`,
      `chown -R ${user} /home/${user}/.docker`,
      `for i in $(seq 50); do [ -S ${relay} ] && break; sleep 0.1; done`,
    ].join(' && '));
    const pool = new HostPool([{ ...sandboxTargets()[0]!, user }], sshOptions());
    try {
      const onHost = await pool.get(host.name);
      expect((await onHost.exec('test -w /var/run/docker.sock && echo writable || echo refused')).stdout.trim()).toBe('refused');
      const docker = await onHost.docker();
      const [version, containers] = await Promise.all([docker.version(), docker.listContainers({ all: true })]);
      expect(version.ApiVersion).toMatch(/^\d+\.\d+$/);
      expect(Array.isArray(containers)).toBe(true);
      const stats = onHost.stats();
      expect(stats.dialStdioStreams).toBeGreaterThanOrEqual(1);
      expect(stats.dialStdioStreams).toBe(stats.dockerStreams);
    } finally {
      await pool.closeAll();
      onVm(`kill $(cat /run/${user}-relay.pid) 2>/dev/null; rm -f /run/${user}-relay.pid ${relay}; userdel -r ${user} 2>/dev/null; true`);
    }
  });
});

describe('exec over SSH', () => {
  it('streams output to callbacks, feeds stdin, reports the exit code, and stops waiting at its timeout', async () => {
    const pool = new HostPool(sandboxTargets().slice(0, 1), sshOptions());
    try {
      const host = await pool.get(sandbox.hosts[0]!.name);
      const chunks: string[] = [];
      const piped = await host.exec('cat; echo done >&2; exit 7', { stdin: 'secret-ish input', onStdout: (c) => chunks.push(c) });
      expect(piped).toEqual({ code: 7, stdout: 'secret-ish input', stderr: 'done\n' });
      expect(chunks.join('')).toBe('secret-ish input');

      const start = performance.now();
      const slow = await host.exec('sleep 5', { timeoutMs: 500 });
      expect(slow.signal).toBe('timeout');
      expect(performance.now() - start).toBeLessThan(3000);
      // The connection stays usable after a timed-out command.
      expect((await host.exec('echo still here')).stdout).toBe('still here\n');
      expect(host.stats().connections).toBe(1);
    } finally {
      await pool.closeAll();
    }
  });
});
