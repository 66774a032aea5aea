// The shared sandbox is up as provided: every host's inner dockerd answers, pulls from the
// sandbox registry and runs what it pulled, sshd takes the generated key and presents the
// key recorded in known_hosts; and `sandbox down` is idempotent (on a separate sandbox).
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import ssh2 from 'ssh2';
import YAML from 'yaml';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { Events, type GangwayEvent } from '../../src/events/events.js';
import { execIn } from '../../src/sandbox/engine.js';
import { SANDBOX_FILES, readSandboxInfo, sandboxDown, sandboxStatus, sandboxUp } from '../../src/sandbox/index.js';

const docker = new Docker();
const sandbox = inject('sandbox');

/** Runs a command in a sandbox host through its SSH port, checking the host key against known_hosts. */
function sshRun(port: number, command: string): Promise<{ code: number; output: string; hostKeyMatched: boolean }> {
  const known = readFileSync(sandbox.knownHostsPath, 'utf8').split('\n').find((l) => l.startsWith(`[127.0.0.1]:${port} `));
  const expectedKey = known?.split(' ')[2];
  let hostKeyMatched = false;
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client
      .on('ready', () => {
        client.exec(command, (err, stream) => {
          if (err) return reject(err);
          let output = '';
          stream.on('data', (c: Buffer) => { output += c.toString(); });
          stream.stderr.on('data', (c: Buffer) => { output += c.toString(); });
          stream.on('close', (code: number) => { client.end(); resolve({ code, output, hostKeyMatched }); });
        });
      })
      .on('error', reject)
      .connect({
        host: '127.0.0.1',
        port,
        username: 'root',
        privateKey: readFileSync(sandbox.keyPath),
        readyTimeout: 10_000,
        hostVerifier: (key: Buffer) => {
          hostKeyMatched = key.toString('base64') === expectedKey;
          return hostKeyMatched;
        },
      });
  });
}

describe('the shared sandbox', () => {
  it('has three hosts on loopback ports and a registry on 127.0.0.1:5000', () => {
    expect(sandbox.hosts.map((h) => h.name)).toEqual(['vm1', 'vm2', 'vm3']);
    for (const h of sandbox.hosts) expect(h.address).toBe('127.0.0.1');
    expect(new Set(sandbox.hosts.flatMap((h) => [h.sshPort, h.httpPort])).size).toBe(6);
    expect(sandbox.registry).toMatchObject({ name: 'registry:5000', localPort: 5000 });
    expect(sandbox.images.busybox).toMatch(/^registry:5000\/gangway\/busybox:[0-9a-f]{12}$/);
  });

  it('writes sandbox.json next to the key, equal to what the tests were given', async () => {
    const onDisk = await readSandboxInfo(join(sandbox.keyPath, '..'));
    expect(onDisk).toEqual(sandbox);
  });

  it('lists every container as running in status', async () => {
    const { rows } = await sandboxStatus({ id: sandbox.id });
    expect(rows.map((r) => [r.role, r.host ?? '', r.state])).toEqual([
      ['registry', '', 'running'],
      ['host', 'vm1', 'running'],
      ['host', 'vm2', 'running'],
      ['host', 'vm3', 'running'],
    ].sort((a, b) => (a[1]! < b[1]! ? -1 : 1)));
  });

  it('each host pulls busybox from registry:5000 and runs it with its own dockerd', async () => {
    const results = await Promise.all(
      sandbox.hosts.map(async (h) => {
        const container = docker.getContainer(h.containerId);
        const info = await execIn(container, ['docker', 'info', '--format', '{{.ServerVersion}}']);
        const run = await execIn(container, ['docker', 'run', '--rm', '--pull', 'always', sandbox.images.busybox, 'echo', `hello from ${h.name}`], 60_000);
        return { h, info, run };
      }),
    );
    for (const { h, info, run } of results) {
      expect(info.exitCode, h.name).toBe(0);
      expect(info.output.trim(), h.name).toMatch(/^20\./);
      expect(run.exitCode, `${h.name}: ${run.output}`).toBe(0);
      expect(run.output, h.name).toContain(`hello from ${h.name}`);
    }
  });

  it('pushes the ACME image and names it in its gangway.yml: a host pulls it and its programs run', async () => {
    expect(sandbox.images.acme).toMatch(/^registry:5000\/gangway\/acme:[0-9a-f]{12}$/);
    const config = YAML.parse(readFileSync(sandbox.configPath!, 'utf8')) as { proxy: { acme?: { image?: string } } };
    expect(config.proxy.acme?.image).toBe(sandbox.images.acme);
    const host = docker.getContainer(sandbox.hosts[0]!.containerId);
    const run = await execIn(host, ['docker', 'run', '--rm', '--pull', 'always', '--entrypoint', '/bin/sh', sandbox.images.acme!, '-c', 'lego --version && socat -V | head -1 && openssl version && date -u -D %Y -d 2030 +%Y'], 60_000);
    expect(run.exitCode, run.output).toBe(0);
    expect(run.output).toMatch(/lego version[\s\S]*socat[\s\S]*OpenSSL[\s\S]*2030/);
  });

  it('takes the generated key over SSH and presents the host key written to known_hosts', async () => {
    const h = sandbox.hosts[0]!;
    const result = await sshRun(h.sshPort, 'docker ps --format "{{.ID}}" >/dev/null && hostname');
    expect(result).toMatchObject({ code: 0, hostKeyMatched: true });
    expect(result.output.trim()).toBe(h.name);
  });

  it('gives every host its own host key', () => {
    const keys = readFileSync(sandbox.knownHostsPath, 'utf8').trim().split('\n').map((l) => l.split(' ')[2]);
    expect(new Set(keys).size).toBe(sandbox.hosts.length);
  });
});

describe('a second, separate sandbox', () => {
  const id = 'itest-down';
  let outDir: string | undefined;
  afterAll(async () => {
    await sandboxDown({ id }, new Events()).catch(() => {});
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('comes up beside the shared one, and `down` twice removes it and only it', async () => {
    outDir = await mkdtemp(join(tmpdir(), 'gangway-sandbox-down-'));
    const events = new Events();
    const seen: GangwayEvent[] = [];
    events.on((e) => seen.push(e));

    const small = await sandboxUp({ id, hosts: 1, outDir, registryPort: 0, pushImages: false }, events);
    expect(small.hosts).toHaveLength(1);
    expect(small.registry.localPort).not.toBe(5000);
    expect(readFileSync(join(outDir, SANDBOX_FILES.knownHosts), 'utf8')).toMatch(/^\[127\.0\.0\.1\]:\d+ ssh-ed25519 /);
    // Progress names the host and the step.
    expect(seen.some((e) => e.type === 'step' && e.host === 'vm1' && e.step === 'dockerd' && e.status === 'done')).toBe(true);

    const first = await sandboxDown({ id }, events);
    expect(first).toEqual({ containers: 2, networks: 1, volumes: 1 });
    const second = await sandboxDown({ id }, events);
    expect(second).toEqual({ containers: 0, networks: 0, volumes: 0 });
    expect((await sandboxStatus({ id })).rows).toEqual([]);

    // The shared sandbox was not touched.
    const shared = await sandboxStatus({ id: sandbox.id });
    expect(shared.rows.filter((r) => r.state === 'running')).toHaveLength(sandbox.hosts.length + 1);
  });
});
