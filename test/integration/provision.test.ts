// Provisioning on a bare Debian host (sshd, sudo, no Docker) of a sandbox of its own: deploy
// refuses and points at setup, a user without sudo gets told what to run, root's setup installs
// Debian's docker.io, boots an accessory and deploys hello behind the proxy; a passwordless
// sudoer's setup joins the docker group and takes the state directory, and deploys behind the
// proxy through its admin socket (the docker group's); the accessory survives a deploy and answers
// to boot/reboot/remove/logs; an uptest of the app's own asks the accessory by name (the uptests
// run in the new container's network namespace). One host, one apt install.
// Everything is checked from outside gangway (docker exec into the host container, HTTP on the
// host's published proxy port).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Docker from 'dockerode';
import { Events } from '../../src/events/events.js';
import { ensureImage } from '../../src/sandbox/image-builder.js';
import { fileEntry } from '../../src/sandbox/image-spec.js';
import { buildHello } from '../../src/sandbox/images.js';
import { sandboxDown, sandboxUp } from '../../src/sandbox/index.js';
import { resolveDebianMirror } from '../../src/sandbox/debian-mirror.js';
import type { SandboxInfo } from '../../src/sandbox/types.js';
import { gangway, getThroughProxy, onHost, pushBuilt, pushHello } from './helpers/deploy.js';
import { expectUnprivilegedProxy, proxyUserCommand } from './helpers/proxy-user.js';
import { testProxyImage } from './helpers/proxy-line.js';

// Its own sandbox, named after the suite's, so parallel suites (GANGWAY_SANDBOX_ID) do not collide.
const SANDBOX_ID = `bare-${process.env.GANGWAY_SANDBOX_ID ?? 'default'}`.slice(0, 31);
const REPO = 'provision-it/hello';
const KV_TOKEN = 'kv-token-that-must-not-leak';
const INSTALL_TIMEOUT_MS = 400_000;

let info: SandboxInfo;
let dir: string;
const timings: Record<string, number> = {};

/**
 * A gangway.yml for hello on the bare host vm1 as `user`, with the kv accessory. `unproxied`: one
 * worker role and no proxy, the first thing a sudoer sets up (a second service on the host).
 */
function writeConfig(user: string, unproxied = false): string {
  const file = join(dir, `gangway.${user}${unproxied ? '.workers' : ''}.yml`);
  const vm1 = info.hosts[0]!;
  const config = {
    service: unproxied ? 'jobs' : 'hello',
    image: `${info.registry.name}/${REPO}`,
    registry: { server: info.registry.name },
    servers: unproxied ? { workers: { hosts: ['vm1'], cmd: ['/app/worker'], proxy: false } } : { web: { hosts: ['vm1'] } },
    hosts: { vm1: { address: vm1.address, port: vm1.sshPort } },
    ssh: { user, identity: info.keyPath, known_hosts: info.knownHostsPath, connect_timeout: '5s', config: false },
    docker: { insecure_registries: [info.registry.name] },
    proxy: { app_port: 80, image: testProxyImage(info), healthcheck: { path: '/up', interval: '500ms', timeout: '2s' } },
    env: { secret: ['HELLO_SECRET'] },
    deploy_timeout: '30s',
    drain_timeout: '3s',
    accessories: unproxied ? {} : {
      kv: {
        image: info.images.busybox,
        host: 'vm1',
        port: '127.0.0.1:8081:80',
        env: { clear: { KV_MODE: 'test' }, secret: ['KV_TOKEN'] },
        directories: ['data:/data'],
        cmd: 'echo "kv starting mode=$KV_MODE"; echo "kv-value" > /data/index.html; exec httpd -f -p 80 -h /data',
      },
    },
  };
  writeFileSync(file, stringify(config));
  return file;
}

const run = (user: string, args: string[], timeoutMs = 150_000, unproxied = false) =>
  gangway(['-c', writeConfig(user, unproxied), ...args], { cwd: dir, timeoutMs, env: { KV_TOKEN } });

const sh = (command: string) => onHost(info, 'vm1', command);

/** id|state of the accessory container, read on the host. */
const kvContainer = async () => (await sh("docker ps -a --filter label=gangway.service=hello --filter label=gangway.accessory=kv --format '{{.ID}}|{{.State}}|{{.Names}}'")).trim();

/** Makes a login for `user` with the sandbox key, and passwordless sudo when asked. */
async function addUser(user: string, sudo: boolean): Promise<void> {
  await sh(
    [
      `useradd -m -s /bin/sh ${user}`,
      `mkdir -p /home/${user}/.ssh`,
      `cp /root/.ssh/authorized_keys /home/${user}/.ssh/authorized_keys`,
      `chown -R ${user}: /home/${user}/.ssh`,
      `chmod 700 /home/${user}/.ssh && chmod 600 /home/${user}/.ssh/authorized_keys`,
      ...(sudo ? [`echo '${user} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/${user}`, `chmod 440 /etc/sudoers.d/${user}`] : []),
    ].join(' && '),
  );
}

describe('setup on a bare Debian host', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gangway-provision-it-'));
    const started = Date.now();
    info = await sandboxUp({ id: SANDBOX_ID, hosts: 1, flavour: 'bare-host', registryPort: 0, outDir: join(dir, 'sandbox') }, new Events());
    timings.sandboxUpMs = Date.now() - started;
    await pushHello(info, REPO, '1.0.0');
    await pushHello(info, REPO, '1.0.1');
    await pushHello(info, REPO, '1.0.2');
    await addUser('nosudo', false);
    await addUser('ops', true);
  }, 600_000);

  afterAll(async () => {
    if (Object.keys(timings).length) console.log(`provision timings: ${JSON.stringify(timings)}`);
    if (info && !process.env.GANGWAY_KEEP) await sandboxDown({ id: SANDBOX_ID }, new Events());
  }, 120_000);

  it('starts a bare host with sshd and sudo but no Docker, ready to run one', async () => {
    expect(info.hosts[0]!.flavour).toBe('bare-host');
    expect(await sh('command -v docker || echo none')).toContain('none');
    expect(await sh('command -v sudo')).toContain('/usr/bin/sudo');
    // The engine setup installs needs writable cgroups and its storage on a volume.
    expect(await sh('mount | grep " /var/lib/docker "')).toContain('/var/lib/docker');
    // Its apt sources are the mirror the rootfs came from: this machine's, or GANGWAY_DEBIAN_MIRROR.
    const { mirror } = await resolveDebianMirror({ suite: 'bookworm' });
    expect(await sh('grep -h "^deb " /etc/apt/sources.list')).toContain(mirror);
  });

  it('refuses a deploy on a host without Docker and says to run gangway setup', async () => {
    const r = await run('root', ['deploy', '--version', '1.0.0']);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain('Docker is not installed on vm1');
    expect(r.output).toContain('run `gangway setup`');
  });

  it('tells a user without sudo what to run, naming the host, and installs nothing', async () => {
    const r = await run('nosudo', ['setup', '--version', '1.0.0']);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain('Docker is not installed, and nosudo is not root and has no passwordless sudo on vm1');
    expect(r.output).toContain('apt-get install -y docker.io');
    expect(r.output).toContain('usermod -aG docker nosudo');
    expect(await sh('command -v docker || echo none')).toContain('none');
  });

  it('installs docker.io as root, boots the accessory, deploys hello behind the proxy', async () => {
    const started = Date.now();
    const r = await run('root', ['setup', '--version', '1.0.0'], INSTALL_TIMEOUT_MS);
    timings.setupWithInstallMs = Date.now() - started;
    expect(r.code, r.output).toBe(0);
    const install = /\[vm1\] docker install ok \(([\d.]+)s\)/.exec(r.output);
    if (install) timings.aptInstallMs = Math.round(Number(install[1]) * 1000);
    for (const step of ['docker configure ok', 'docker install ok', 'docker start ok', 'accessory kv ok']) expect(r.output).toContain(step);
    expect(r.output).not.toContain('docker grant');
    expect(r.output).not.toContain(KV_TOKEN);

    expect((await getThroughProxy(info, 'vm1')).body).toBe('hello from 1.0.0');
    expect(await sh('cat /etc/docker/daemon.json')).toContain('"registry:5000"');
    // The accessory: running, labelled, on the app network by its name, its env file 0600.
    expect(await kvContainer()).toMatch(/\|running\|hello-kv$/);
    expect(await sh("docker inspect hello-kv --format '{{index .Config.Labels \"gangway.managed\"}} {{.HostConfig.RestartPolicy.Name}}'")).toContain('accessory always');
    expect(await sh('docker exec hello-web-1.0.0 wget -qO- http://kv/')).toContain('kv-value');
    expect(await sh('curl -s http://127.0.0.1:8081/')).toContain('kv-value');
    expect(await sh('stat -c %a /var/lib/gangway/env/hello-accessory-kv.env')).toContain('600');
    expect(await sh('ls /var/lib/gangway/accessories/hello-kv/data')).toContain('index.html');
  });

  it('lets a passwordless sudoer use the engine: joins the docker group, takes the state directory', async () => {
    const r = await run('ops', ['setup', '--version', '1.0.0'], 150_000, true);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('docker state-dir ok');
    expect(r.output).toContain('docker grant ok');
    expect(r.output).not.toContain('docker install');
    expect(await sh('id -nG ops')).toContain('docker');
    expect(await sh('stat -c %U /var/lib/gangway')).toContain('ops');
    expect(await sh("docker ps --filter label=gangway.service=jobs --format '{{.Names}} {{.State}}'")).toContain('jobs-workers-1.0.0 running');
  });

  it('runs setup again without installing anything', async () => {
    const r = await run('root', ['setup', '--version', '1.0.0']);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('docker skipped');
    expect(r.output).not.toContain('docker install');
    expect(r.output).toContain('hello-kv running');
  });

  it('leaves the accessory untouched when deploying a new version', async () => {
    const before = await kvContainer();
    const startedAt = await sh("docker inspect hello-kv --format '{{.State.StartedAt}}'");
    const r = await run('root', ['deploy', '--version', '1.0.1']);
    expect(r.code, r.output).toBe(0);
    expect(r.output).not.toContain('accessory');
    expect((await getThroughProxy(info, 'vm1')).body).toBe('hello from 1.0.1');
    expect(await kvContainer()).toBe(before);
    expect(await sh("docker inspect hello-kv --format '{{.State.StartedAt}}'")).toBe(startedAt);
    expect(await sh('docker exec hello-web-1.0.1 wget -qO- http://kv/')).toContain('kv-value');
  });

  it('shows the accessory\'s logs', async () => {
    const r = await run('root', ['accessory', 'logs', 'kv', '-n', '20']);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('kv starting mode=test');
  });

  it('reboots the accessory into a new container, still reachable by name', async () => {
    const before = (await kvContainer()).split('|')[0];
    const r = await run('root', ['accessory', 'reboot', 'kv']);
    expect(r.code, r.output).toBe(0);
    const after = await kvContainer();
    expect(after).toMatch(/\|running\|hello-kv$/);
    expect(after.split('|')[0]).not.toBe(before);
    expect(await sh('docker exec hello-web-1.0.1 wget -qO- http://kv/')).toContain('kv-value');
  });

  it('removes the accessory and its env file, keeps its data, and boots it again', async () => {
    const removed = await run('root', ['accessory', 'remove', 'kv']);
    expect(removed.code, removed.output).toBe(0);
    expect(await kvContainer()).toBe('');
    expect(await sh('test -e /var/lib/gangway/env/hello-accessory-kv.env && echo present || echo gone')).toContain('gone');
    expect(await sh('ls /var/lib/gangway/accessories/hello-kv/data')).toContain('index.html');
    // The app keeps serving: accessories and the app are separate.
    expect((await getThroughProxy(info, 'vm1')).body).toBe('hello from 1.0.1');

    const booted = await run('root', ['accessory', 'boot', 'kv']);
    expect(booted.code, booted.output).toBe(0);
    expect(await kvContainer()).toMatch(/\|running\|hello-kv$/);
  });

  it('rejects an accessory name that is not in the config as a usage error', async () => {
    const r = await run('root', ['accessory', 'boot', 'nope']);
    expect(r.code).toBe(2);
    expect(r.output).toContain('no accessory nope in the config');
  });

  it('tells a user outside the docker group, after setup, that setup would fix it', async () => {
    const r = await run('nosudo', ['deploy', '--version', '1.0.1']);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain('nosudo may not use the Docker engine on vm1');
    expect(r.output).toContain('run `gangway setup`');
  });

  it('lets a sudoer in the docker group deploy behind the proxy: the admin socket is the docker group\'s and the unprivileged proxy\'s, and only theirs', async () => {
    expect(await sh('stat -c "%a %G" /var/lib/gangway/proxy')).toContain('2770 docker');
    // HAProxy runs as uid 80080 with the docker group (never root), so its socket is 80080:docker,
    // mode 660, even after the sudoer's setup took the state directory (sockets excepted).
    expectUnprivilegedProxy(await sh(proxyUserCommand('gangway-proxy', '/var/lib/gangway/proxy/admin.sock')));
    const r = await run('ops', ['deploy', '--version', '1.0.2']);
    expect(r.code, r.output).toBe(0);
    expect((await getThroughProxy(info, 'vm1')).body).toBe('hello from 1.0.2');
    const status = await run('ops', ['status']);
    expect(status.code, status.output).toBe(0);
    expect(status.output).toContain('1.0.2');
    // A user outside the docker group cannot reach the socket.
    expect(await sh("su -s /bin/sh nosudo -c 'test -w /var/lib/gangway/proxy/admin.sock && echo reachable || echo denied'")).toContain('denied');
  });

  it('runs an uptest that asks the accessory by its name: the uptests share the new container\'s network', async () => {
    // hello with one more web uptest, written for this test as an app's author would: it asks kv
    // for its value, by the name the app itself uses. (timeout, not wget -T: busybox 1.35's wget
    // -T segfaults.)
    const docker = new Docker();
    const events = new Events();
    const hello = await buildHello({ version: '1.0.3', docker, events });
    const kvUptest = ['#!/bin/sh', 'body=$(timeout 5 wget -qO- http://kv/) || { echo "kv did not answer"; exit 1; }', '[ "$body" = kv-value ] || { echo "kv answered: $body"; exit 1; }', 'echo "kv answered $body"', ''].join('\n');
    const built = await ensureImage(docker, { name: 'provision-kv-uptest', dockerfile: `FROM ${hello.tag}\nCOPY 03-kv /uptests/web/03-kv\n`, context: [fileEntry('03-kv', kvUptest, 0o755)] }, events);
    await pushBuilt(info, built.tag, REPO, '1.0.3');
    const r = await run('ops', ['--json', 'deploy', '--version', '1.0.3']);
    expect(r.code, r.output).toBe(0);
    const kvStep = r.output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; step?: string; status?: string }).filter((e) => e.type === 'step' && e.step === 'uptest 03-kv').pop();
    expect(kvStep?.status, r.output).toBe('done');
    expect((await getThroughProxy(info, 'vm1')).body).toBe('hello from 1.0.3');
  });
});
