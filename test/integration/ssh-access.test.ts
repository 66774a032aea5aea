// How an operator reaches servers: through a bastion (the inner host's sshd is published
// nowhere: only the bastion reaches it, on the sandbox network), hosts named only in an ssh config
// file, and a passphrase-protected key served by an ssh-agent. Counts are taken from sshd's side
// (its log of accepted logins), not from gangway.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hostCreateOptions, hostVolumeCreateOptions, sandboxNames } from '../../src/sandbox/containers.js';
import { execIn } from '../../src/sandbox/engine.js';
import type { SandboxHost, SandboxInfo } from '../../src/sandbox/types.js';
import { gangway, pushHello, TEST_SECRET } from './helpers/deploy.js';
import { testProxyImage } from './helpers/proxy-line.js';

const INNER = 'inner1';
const PASSPHRASE = 'correct horse battery staple';
const docker = new Docker();
let sandbox: SandboxInfo;
let work: string;
let inner: Docker.Container;
let knownHosts: string;
let innerHostKey: string;
let agent: { pid: number; sock: string } | undefined;

async function sh(container: Docker.Container, script: string): Promise<string> {
  const r = await execIn(container, ['sh', '-c', script], 30_000);
  if (r.exitCode !== 0) throw new Error(`${script}: ${r.output}`);
  return r.output;
}

/** Logins sshd accepted so far on a container (its log file, kept by the host image). */
async function acceptedLogins(container: Docker.Container): Promise<number> {
  const out = await execIn(container, ['sh', '-c', 'grep -c "Accepted publickey" /var/log/sshd.log || true']);
  return Number(out.output.trim() || 0);
}

async function sshdLogLines(container: Docker.Container): Promise<number> {
  return Number((await sh(container, 'wc -l < /var/log/sshd.log')).trim());
}

const hostContainer = (h: SandboxHost) => docker.getContainer(h.containerId);

async function waitUntil(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A Docker-in-Docker host on the sandbox network, built like the others, with NO port published. */
async function startInnerHost(): Promise<Docker.Container> {
  const image = (await hostContainer(sandbox.hosts[0]!).inspect()).Config.Image;
  await docker.createVolume(hostVolumeCreateOptions(sandbox.id, INNER));
  const options = hostCreateOptions({ id: sandbox.id, image, hostName: INNER, sshPort: 0, httpPort: 0 });
  options.HostConfig!.PortBindings = {};
  const container = await docker.createContainer(options);
  await container.start();
  const publicKey = execFileSync('ssh-keygen', ['-y', '-f', sandbox.keyPath], { encoding: 'utf8' }).trim();
  await waitUntil(`sshd on ${INNER}`, 30_000, async () => (await execIn(container, ['sh', '-c', 'test -s /var/log/sshd.log && test -e /etc/ssh/ssh_host_ed25519_key.pub'])).exitCode === 0);
  await sh(container, `umask 077; echo '${publicKey}' > /root/.ssh/authorized_keys`);
  await waitUntil(`dockerd on ${INNER}`, 90_000, async () => (await execIn(container, ['docker', 'info', '--format', '{{.ServerVersion}}'], 10_000)).exitCode === 0);
  return container;
}

beforeAll(async () => {
  sandbox = inject('sandbox');
  work = mkdtempSync(join(tmpdir(), 'gangway-ssh-access-'));
  inner = await startInnerHost();
  const published = (await inner.inspect()).NetworkSettings.Ports?.['22/tcp'];
  expect(published ?? null).toBeNull();
  innerHostKey = (await sh(inner, 'cat /etc/ssh/ssh_host_ed25519_key.pub')).trim().split(/\s+/).slice(0, 2).join(' ');
  knownHosts = join(work, 'known_hosts');
  writeFileSync(knownHosts, `${readFileSync(sandbox.knownHostsPath, 'utf8')}${INNER} ${innerHostKey}\n`, { mode: 0o600 });
}, 180_000);

afterAll(async () => {
  if (agent) {
    try { process.kill(agent.pid); } catch { /* already gone */ }
  }
  await inner?.remove({ force: true, v: true }).catch(() => {});
  await docker.getVolume(sandboxNames(sandbox.id).dockerVolume(INNER)).remove().catch(() => {});
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

/** The CLI with a HOME of its own: nothing reads or writes the real ~/.ssh. */
const cli = (args: string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 120_000) =>
  gangway(args, { cwd, env: { HOME: join(work, 'home'), SSH_AUTH_SOCK: '', ...env }, timeoutMs });

function project(name: string, config: Record<string, unknown>): string {
  const dir = mkdtempSync(join(work, `${name}-`));
  writeFileSync(join(dir, 'gangway.yml'), stringify(config));
  return dir;
}

const bastion = () => sandbox.hosts[0]!;

describe('a host reached only through a bastion', () => {
  const appConfig = (image: string, over: Record<string, unknown> = {}) => ({
    service: 'hello',
    image,
    registry: { server: sandbox.registry.name },
    servers: { web: { hosts: [INNER] } },
    ssh: { user: 'root', identity: sandbox.keyPath, known_hosts: knownHosts, connect_timeout: '5s', config: false, proxy: `root@127.0.0.1:${bastion().sshPort}` },
    proxy: { app_port: 80, image: testProxyImage(sandbox), healthcheck: { path: '/up', interval: '500ms', timeout: '2s' } },
    env: { clear: { MODE: 'test' }, secret: ['HELLO_SECRET'] },
    deploy_timeout: '30s',
    drain_timeout: '2s',
    ...over,
  });

  it('deploy and verify pass through it, one login per host (and one on the bastion) per command', async () => {
    const ref = await pushHello(sandbox, 'ssh-access/hello', '1.0.0');
    const dir = project('bastion', appConfig(ref.replace(/:1\.0\.0$/, '')));
    for (const args of [['deploy', '--version', '1.0.0'], ['verify']]) {
      const before = { inner: await acceptedLogins(inner), bastion: await acceptedLogins(hostContainer(bastion())) };
      const r = await cli(args, dir);
      expect(r.code, `${args.join(' ')}\n${r.output}`).toBe(0);
      expect(await acceptedLogins(inner), args[0]).toBe(before.inner + 1);
      expect(await acceptedLogins(hostContainer(bastion())), args[0]).toBe(before.bastion + 1);
      expect(r.output).not.toContain(TEST_SECRET);
    }
    const served = await sh(inner, 'docker ps --format "{{.Names}}"');
    expect(served).toContain('hello-web-1.0.0');
  }, 300_000);

  it('gangway config names the bastion and where it came from', async () => {
    const dir = project('bastion-config', appConfig('registry:5000/x'));
    const r = await cli(['config', '--json'], dir);
    expect(r.code, r.output).toBe(0);
    const result = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; data?: { connections?: unknown[] } }).find((e) => e.type === 'result');
    const conn = (result?.data?.connections as Array<{ host: string; settings: Array<{ setting: string; value: unknown; source: string }>; bastion?: { name: string } }>)[0]!;
    expect(conn.host).toBe(INNER);
    expect(conn.settings.find((s) => s.setting === 'proxy')).toMatchObject({ value: `root@127.0.0.1:${bastion().sshPort}`, source: expect.stringMatching(/^ssh\.proxy \(gangway\.yml:\d+\)$/) });
    expect(conn.bastion?.name).toBe('127.0.0.1');
  });

  it('refuses the inner host when its key does not match known_hosts', async () => {
    const otherKey = (await sh(hostContainer(sandbox.hosts[1]!), 'cat /etc/ssh/ssh_host_ed25519_key.pub')).trim().split(/\s+/).slice(0, 2).join(' ');
    const wrong = join(work, 'known_hosts.wrong');
    writeFileSync(wrong, `${readFileSync(sandbox.knownHostsPath, 'utf8')}${INNER} ${otherKey}\n`, { mode: 0o600 });
    const dir = project('bastion-wrong-key', appConfig('registry:5000/x', { ssh: { ...appConfig('x').ssh, known_hosts: wrong } }));
    const before = await acceptedLogins(inner);
    const r = await cli(['hosts', 'check'], dir);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(new RegExp(`host key for ${INNER} \\(${INNER}\\) changed`));
    expect(await acceptedLogins(inner)).toBe(before);
  });

  it('an unreachable bastion is named with the host', async () => {
    const dir = project('bastion-down', appConfig('registry:5000/x', { ssh: { ...appConfig('x').ssh, proxy: 'root@127.0.0.1:1' } }));
    const r = await cli(['hosts', 'check'], dir);
    expect(r.code).toBe(1);
    expect(r.output).toContain(`cannot reach ${INNER} through bastion 127.0.0.1`);
  });
});

describe('hosts named only in an ssh config file', () => {
  it('hosts check reaches them with HostName, Port, User and IdentityFile from that file', async () => {
    const [vm2, vm3] = [sandbox.hosts[1]!, sandbox.hosts[2]!];
    const sshConfig = join(work, 'ssh_config');
    writeFileSync(sshConfig, [
      'Host app-a app-b',
      '  HostName 127.0.0.1',
      'Host app-a',
      `  Port ${vm2.sshPort}`,
      'Host app-b',
      `  Port ${vm3.sshPort}`,
      'Host *',
      '  User root',
      `  IdentityFile ${sandbox.keyPath}`,
      '',
    ].join('\n'));
    const dir = project('ssh-config', {
      service: 'hello', image: 'registry:5000/x',
      servers: { web: { hosts: ['app-a', 'app-b'] } },
      ssh: { known_hosts: sandbox.knownHostsPath, config: sshConfig, connect_timeout: '5s' },
    });
    const r = await cli(['hosts', 'check'], dir);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('2 host(s) ok');
    const shown = await cli(['config'], dir);
    expect(shown.stdout).toContain(`#   port = ${vm2.sshPort}  <- ${sshConfig}:4 (Port)`);
    expect(shown.stdout).toContain(`#   identity = ${sandbox.keyPath}  <- ${sshConfig}:9 (IdentityFile)`);
  });

  it('a missing ssh.config file is exit 2 naming the key', async () => {
    const dir = project('ssh-config-missing', {
      service: 'hello', image: 'registry:5000/x', servers: { web: { hosts: ['app-a'] } },
      ssh: { known_hosts: sandbox.knownHostsPath, config: join(work, 'nope') },
    });
    const r = await cli(['hosts', 'check'], dir);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/gangway\.yml:\d+:\d+.*ssh\.config.*not found|ssh config file .*nope not found/);
  });
});

describe('a key with a passphrase', () => {
  let keyPath: string;
  let dir: string;
  const vm3 = () => sandbox.hosts[2]!;

  beforeAll(async () => {
    keyPath = join(work, 'locked_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'gangway-locked', '-f', keyPath]);
    const pub = readFileSync(`${keyPath}.pub`, 'utf8').trim();
    await sh(hostContainer(vm3()), `echo '${pub}' >> /root/.ssh/authorized_keys`);
    dir = project('locked', {
      service: 'hello', image: 'registry:5000/x', servers: { web: { hosts: [vm3().name] } },
      hosts: { [vm3().name]: { address: vm3().address, port: vm3().sshPort } },
      ssh: { user: 'root', identity: keyPath, known_hosts: sandbox.knownHostsPath, config: false, connect_timeout: '5s' },
    });
  });

  afterAll(async () => {
    await sh(hostContainer(vm3()), "sed -i '/gangway-locked$/d' /root/.ssh/authorized_keys").catch(() => {});
  });

  it('without an agent and without a terminal: exit 2 naming the key and ssh-add, no host touched', async () => {
    const before = await sshdLogLines(hostContainer(vm3()));
    const r = await cli(['hosts', 'check'], dir);
    expect(r.code, r.output).toBe(2);
    expect(r.output).toContain(`the SSH key ${keyPath} (for ${vm3().name}) is protected by a passphrase`);
    expect(r.output).toContain(`ssh-add ${keyPath}`);
    expect(await sshdLogLines(hostContainer(vm3()))).toBe(before);
  });

  it('served by an ssh-agent (SSH_AUTH_SOCK): hosts check passes, the key and passphrase never shown', async () => {
    const sock = join(work, 'agent.sock');
    const started = execFileSync('ssh-agent', ['-a', sock, '-s'], { encoding: 'utf8' });
    agent = { pid: Number(/SSH_AGENT_PID=(\d+)/.exec(started)![1]), sock };
    const askpass = join(work, 'askpass.sh');
    writeFileSync(askpass, `#!/bin/sh\necho '${PASSPHRASE}'\n`);
    chmodSync(askpass, 0o700);
    const added = spawnSync('ssh-add', [keyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    expect(added.status, added.stderr.toString()).toBe(0);

    const before = await acceptedLogins(hostContainer(vm3()));
    const r = await cli(['hosts', 'check'], dir, { SSH_AUTH_SOCK: sock });
    expect(r.code, r.output).toBe(0);
    expect(await acceptedLogins(hostContainer(vm3()))).toBe(before + 1);
    const privateBody = readFileSync(keyPath, 'utf8').split('\n')[1]!;
    expect(r.output).not.toContain(PASSPHRASE);
    expect(r.output).not.toContain(privateBody);
  });
});
