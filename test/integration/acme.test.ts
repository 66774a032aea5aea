// The renewal container (src/proxy/acme-container.ts) against a real ACME CA (Pebble on the
// sandbox network) and a real HAProxy on a sandbox host: issuance of two names, a forced renewal
// under HTTPS load with no failed request and no reload, a failed renewal (Pebble stopped) that
// keeps the old certificate serving and says why, and no private key in the container's inspect
// or logs. On HAProxy 2.6, and 3.0 in the integration-haproxy-3.0 project. Pebble validates HTTP-01 on the host's port 80, where HAProxy sends
// /.well-known/acme-challenge/ to gangway-acme:8402.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createContainer } from '../../src/docker/containers.js';
import { Events } from '../../src/events/events.js';
import { HostPool } from '../../src/hosts/pool.js';
import { acmeContainerSpec, acmeNamesText, certPath, RETRY_FIRST_SECONDS, statusPath, type AcmeContainerOptions, type AcmeStatus } from '../../src/proxy/acme-container.js';
import { PROXY_CONTAINER_DIR, PROXY_UID } from '../../src/proxy/paths.js';
import { acmeCaIssuingRoot, ensureAcmeImage, pushToSandboxRegistry, setAcmeDnsRecord, startAcmeCa, stopAcmeCa, type AcmeCa } from '../../src/sandbox/index.js';
import { networkAddress } from '../../src/sandbox/containers.js';
import type { SandboxInfo } from '../../src/sandbox/types.js';
import { onHost } from './helpers/deploy.js';
import { testProxyImage } from './helpers/proxy-line.js';

const execFileAsync = promisify(execFile);
const RUN = randomBytes(3).toString('hex');
const RUN_LABEL = { 'gangway.dev.run': `acme-${RUN}` };
const NAMES = [`a-${RUN}.acme.test`, `b-${RUN}.acme.test`];
const HOST_DIR = `/tmp/gangway-acme-${RUN}`;
const NETWORK = `acme-${RUN}`;
const VOLUME = `gangway-acme-${RUN}`;
const PROXY_NAME = `acme-proxy-${RUN}`;
const ACME_NAME = 'gangway-acme';
/** A pass that fails once (a CA that did not answer lego within its 30 s) and the retry after it. */
const ISSUE_WAIT_MS = (RETRY_FIRST_SECONDS + 90) * 1000;
// The proxy's group in this test: root's, on a directory only the proxy's uid may enter.
const PROXY_GID = 0;

let sandbox: SandboxInfo;
let docker: Docker;
let pool: HostPool;
let hostDocker: Docker;
let hostName: string;
let hostAddress: string;
let ca: AcmeCa;
let caStopped = false;
let acmeImage: string;
let root: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** haproxy.cfg of the test: HTTP-01 to the ACME container, HTTPS from the crt-list, the admin socket. */
const HAPROXY_CFG = `global
  log stdout format raw local0
  stats socket ${PROXY_CONTAINER_DIR}/admin.sock mode 600 level admin
  stats timeout 30s
defaults
  mode http
  log global
  timeout connect 5s
  timeout client 30s
  timeout server 30s
resolvers docker
  nameserver dns 127.0.0.11:53
  timeout resolve 1s
  hold valid 1s
  hold nx 1s
  hold other 1s
frontend http
  bind :80
  acl acme_challenge path_beg /.well-known/acme-challenge/
  use_backend acme if acme_challenge
  http-request return status 200 content-type text/plain string "plain http\\n" if !acme_challenge
frontend https
  bind :443 ssl crt-list ${PROXY_CONTAINER_DIR}/certs/crt-list.txt
  http-request return status 200 content-type text/plain string "over tls\\n"
backend acme
  server acme ${ACME_NAME}:8402 resolvers docker resolve-prefer ipv4 init-addr libc,none
`;

async function selfSignedPem(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gangway-acme-'));
  try {
    await execFileAsync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=default.invalid', '-keyout', join(dir, 'k'), '-out', join(dir, 'c')]);
    return `${await readFile(join(dir, 'c'), 'utf8')}${await readFile(join(dir, 'k'), 'utf8')}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The proxy's directory, written into the sandbox host (it is the host's /tmp, bind-mounted into both containers). */
async function writeHostDir(): Promise<void> {
  const tar = pack();
  const own = { uid: PROXY_UID, gid: PROXY_GID };
  const dir = HOST_DIR.replace(/^\//, '');
  tar.entry({ name: dir, type: 'directory', mode: 0o700, ...own });
  tar.entry({ name: `${dir}/certs`, type: 'directory', mode: 0o700, ...own });
  tar.entry({ name: `${dir}/haproxy.cfg`, mode: 0o600, ...own }, HAPROXY_CFG);
  tar.entry({ name: `${dir}/acme-ca.pem`, mode: 0o644, ...own }, ca.listenerCertPem);
  tar.entry({ name: `${dir}/certs/default.pem`, mode: 0o600, ...own }, await selfSignedPem());
  tar.entry({ name: `${dir}/certs/crt-list.txt`, mode: 0o600, ...own }, `${PROXY_CONTAINER_DIR}/certs/default.pem\n`);
  // One name at first: the second is added while the container runs (and a SIGHUP asks for a pass).
  tar.entry({ name: `${dir}/certs/acme-names.txt`, mode: 0o644, ...own }, acmeNamesText(NAMES.slice(0, 1)));
  tar.finalize();
  const id = sandbox.hosts.find((h) => h.name === hostName)!.containerId;
  await docker.getContainer(id).putArchive(tar as unknown as NodeJS.ReadableStream, { path: '/' });
}

async function startProxy(): Promise<void> {
  const proxy = await createContainer(hostDocker, {
    name: PROXY_NAME,
    Image: testProxyImage(sandbox),
    Entrypoint: ['haproxy'],
    Cmd: ['-W', '-db', '-f', `${PROXY_CONTAINER_DIR}/haproxy.cfg`],
    User: `${PROXY_UID}:${PROXY_GID}`,
    Labels: RUN_LABEL,
    ExposedPorts: { '80/tcp': {}, '443/tcp': {} },
    HostConfig: {
      Binds: [`${HOST_DIR}:${PROXY_CONTAINER_DIR}`],
      NetworkMode: NETWORK,
      PortBindings: { '80/tcp': [{ HostPort: '80' }], '443/tcp': [{ HostPort: '443' }] },
      Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' },
      CapDrop: ['ALL'],
    },
  });
  await proxy.start();
}

const adminSocket = (command: string) => onHost(sandbox, hostName, `printf '%s\\n' '${command}' | socat -t 5 - UNIX-CONNECT:${HOST_DIR}/admin.sock`);
const workerPid = async (): Promise<string> => /^Pid: (\d+)/m.exec(await adminSocket('show info'))?.[1] ?? '';

function acmeOptions(overrides: Partial<AcmeContainerOptions> = {}): AcmeContainerOptions {
  return {
    image: acmeImage,
    network: NETWORK,
    directory: ca.directoryUrl,
    email: 'ops@acme.test',
    proxyUid: PROXY_UID,
    proxyGid: PROXY_GID,
    caCertificatesFile: `${PROXY_CONTAINER_DIR}/acme-ca.pem`,
    hostDir: HOST_DIR,
    dataVolume: VOLUME,
    extraHosts: [`pebble:${ca.pebbleAddress}`],
    labels: RUN_LABEL,
    ...overrides,
  };
}

/** Starts the renewal container afresh (a new D is a new container, as gangway would do). */
async function runAcme(overrides: Partial<AcmeContainerOptions> = {}): Promise<Docker.Container> {
  await hostDocker.getContainer(ACME_NAME).remove({ force: true }).catch(() => {});
  const container = await createContainer(hostDocker, acmeContainerSpec(acmeOptions(overrides)));
  await container.start();
  return container;
}

async function readStatus(name: string): Promise<AcmeStatus | undefined> {
  const text = await onHost(sandbox, hostName, `cat ${HOST_DIR}/certs/${name}.status.json 2>/dev/null`);
  try {
    return JSON.parse(text) as AcmeStatus;
  } catch {
    return undefined;
  }
}

async function waitForStatus(name: string, done: (s: AcmeStatus) => boolean, maxMs: number): Promise<AcmeStatus> {
  const deadline = Date.now() + maxMs;
  let last: AcmeStatus | undefined;
  while (Date.now() < deadline) {
    last = await readStatus(name);
    if (last && done(last)) return last;
    await sleep(500);
  }
  const logs = await onHost(sandbox, hostName, `docker logs --tail 20 ${ACME_NAME} 2>&1`);
  throw new Error(`status of ${name} not as expected within ${maxMs} ms: ${JSON.stringify(last)}\n${logs}`);
}

interface Served {
  authorized: boolean;
  serial: string;
  altNames: string;
  error?: string;
}

/** One fresh TLS handshake with SNI `name`, trusting only `ca`. */
function served(name: string, caPem: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: hostAddress, port: 443, servername: name, ca: caPem, rejectUnauthorized: false, timeout: 5000 }, () => {
      const cert = socket.getPeerCertificate();
      resolve({ authorized: socket.authorized, serial: cert.serialNumber, altNames: cert.subjectaltname ?? '', ...(socket.authorizationError ? { error: String(socket.authorizationError) } : {}) });
      socket.end();
    });
    socket.on('timeout', () => socket.destroy(new Error('timeout')));
    socket.on('error', reject);
  });
}

/** HTTPS load (fresh handshakes and keep-alive in turn, both names) at `perSecond` until `stop()`; failures listed. */
function httpsLoad(caPem: string, perSecond: number): { stop: () => Promise<{ requests: number; failures: string[] }> } {
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
  const failures: string[] = [];
  let requests = 0;
  const inFlight = new Set<Promise<void>>();
  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const name = NAMES[i % NAMES.length]!;
      const fresh = i % 2 === 0;
      const req = httpsRequest({ host: hostAddress, port: 443, servername: name, headers: { host: name }, path: '/', ca: caPem, timeout: 5000, agent: fresh ? false : keepAlive }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => {
          if (res.statusCode !== 200 || body !== 'over tls\n') failures.push(`${name} ${fresh ? 'fresh' : 'keep-alive'}: ${res.statusCode} ${body.slice(0, 80)}`);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) => { failures.push(`${name} ${fresh ? 'fresh' : 'keep-alive'}: ${err.message}`); resolve(); });
      req.end();
    });
  let i = 0;
  const timer = setInterval(() => {
    requests += 1;
    const p = one(i++);
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
  }, 1000 / perSecond);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      keepAlive.destroy();
      return { requests, failures };
    },
  };
}

/** Every base64 line of the PEM private keys in `pem` (what must never show up elsewhere). */
const keyLines = (pem: string): string[] =>
  [...pem.matchAll(/-----BEGIN [A-Z ]*PRIVATE KEY-----\n([\s\S]*?)-----END/g)].flatMap((m) => m[1]!.split('\n').filter((l) => l.length >= 40));

describe('ACME issuance and renewal with Pebble', () => {
  beforeAll(async () => {
    sandbox = inject('sandbox');
    docker = new Docker();
    const events = new Events();
    // A host whose port 80 is free: Pebble validates HTTP-01 there.
    for (const h of sandbox.hosts) {
      if ((await onHost(sandbox, h.name, 'docker ps -q --filter publish=80 --filter publish=443')).trim() === '') { hostName = h.name; break; }
    }
    if (!hostName) throw new Error('every sandbox host has something published on port 80 or 443');
    const host = sandbox.hosts.find((h) => h.name === hostName)!;
    hostAddress = networkAddress(await docker.getContainer(host.containerId).inspect(), sandbox.network)!;

    ca = await startAcmeCa(docker, { id: sandbox.id }, events);
    for (const name of NAMES) await setAcmeDnsRecord(ca, name, hostAddress);
    root = await acmeCaIssuingRoot(ca);
    acmeImage = await pushToSandboxRegistry(docker, await ensureAcmeImage(docker, events), sandbox.registry.localPort, events);

    pool = new HostPool(
      [{ name: hostName, address: host.address, port: host.sshPort, user: 'root', identityFile: sandbox.keyPath, local: false }],
      { knownHostsPath: sandbox.knownHostsPath, trustOnFirstUse: false, connectTimeoutMs: 5000, keepaliveIntervalMs: 15_000 },
    );
    hostDocker = await (await pool.get(hostName)).docker();
    await onHost(sandbox, hostName, `docker pull -q ${acmeImage} && docker pull -q ${testProxyImage(sandbox)}`);
    await hostDocker.createNetwork({ Name: NETWORK, Labels: RUN_LABEL });
    await writeHostDir();
    await startProxy();
  });

  afterAll(async () => {
    if (hostDocker) {
      for (const c of await hostDocker.listContainers({ all: true, filters: { label: [`gangway.dev.run=${RUN_LABEL['gangway.dev.run']}`] } })) {
        await hostDocker.getContainer(c.Id).remove({ force: true }).catch(() => {});
      }
      await hostDocker.getNetwork(NETWORK).remove().catch(() => {});
      await hostDocker.getVolume(VOLUME).remove().catch(() => {});
    }
    if (hostName) await onHost(sandbox, hostName, `rm -rf ${HOST_DIR}`).catch(() => {});
    await pool?.closeAll();
    if (ca) await stopAcmeCa(docker, ca).catch(() => {});
  });

  let issuedSerial: Record<string, string> = {};
  let pidBefore = '';

  it('issues a certificate for each name and serves it over HTTPS with no reload', async () => {
    pidBefore = await workerPid();
    expect(pidBefore).toMatch(/^\d+$/);
    await runAcme();
    const check = async (name: string) => {
      const status = await waitForStatus(name, (s) => s.result === 'ok' && !!s.notAfter, ISSUE_WAIT_MS);
      expect(status.lastSuccess).toBe(status.lastAttempt);
      const tls = await served(name, root);
      expect(tls, name).toMatchObject({ authorized: true });
      expect(tls.altNames).toContain(`DNS:${name}`);
      issuedSerial[name] = tls.serial;
      return status;
    };
    const first = await check(NAMES[0]!);
    expect(await readStatus(NAMES[1]!)).toBeUndefined();
    // A second name: gangway rewrites the list and sends SIGHUP instead of waiting N hours. The
    // crt-list file loses the first name meanwhile (as if rewritten without it): the pass puts it back.
    const crtList = `${HOST_DIR}/certs/crt-list.txt`;
    await onHost(sandbox, hostName, `grep -v '${NAMES[0]}' ${crtList} > ${crtList}.new; cat ${crtList}.new > ${crtList}; rm ${crtList}.new`);
    expect(await onHost(sandbox, hostName, `cat ${crtList}`)).not.toContain(NAMES[0]);
    await onHost(sandbox, hostName, `printf '%s' '${acmeNamesText(NAMES)}' > ${HOST_DIR}/certs/acme-names.txt && docker kill -s HUP ${ACME_NAME} >/dev/null`);
    await check(NAMES[1]!);
    // The first name was not due (D = 30 days): attempted again, same certificate.
    const again = await waitForStatus(NAMES[0]!, (s) => s.lastAttempt !== first.lastAttempt, 30_000);
    expect(again).toMatchObject({ result: 'ok', notAfter: first.notAfter });
    expect((await served(NAMES[0]!, root)).serial).toBe(issuedSerial[NAMES[0]!]);
    // An unknown name still gets the default (self-signed) certificate, which Pebble's root does not vouch for.
    expect((await served(`other-${RUN}.acme.test`, root)).authorized).toBe(false);
    expect(await workerPid()).toBe(pidBefore);
    const files = await onHost(sandbox, hostName, `stat -c '%a %u %n' ${NAMES.map((n) => `${HOST_DIR}/certs/${n}.pem`).join(' ')}; cat ${HOST_DIR}/certs/crt-list.txt`);
    for (const name of NAMES) {
      expect(files).toContain(`600 ${PROXY_UID} ${HOST_DIR}/certs/${name}.pem`);
      expect(files).toContain(`${certPath(name)} ${name}`);
    }
  }, 2 * ISSUE_WAIT_MS + 60_000);

  it('renews under HTTPS load (fresh handshakes and keep-alive) with no failed request and no reload', async () => {
    expect(Object.keys(issuedSerial)).toHaveLength(NAMES.length);
    const before = await Promise.all(NAMES.map(readStatus));
    const load = httpsLoad(root, 20);
    const started = Date.now();
    await runAcme({ renewDays: 100_000 });
    for (const [i, name] of NAMES.entries()) await waitForStatus(name, (s) => s.result === 'ok' && s.lastSuccess !== before[i]!.lastSuccess, ISSUE_WAIT_MS);
    // The rest of the 20 s under load, on the new certificates.
    await sleep(Math.max(0, 20_000 - (Date.now() - started)));
    const { requests, failures } = await load.stop();
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThanOrEqual(380);
    for (const name of NAMES) {
      const tls = await served(name, root);
      expect(tls.authorized).toBe(true);
      expect(tls.serial, `${name} serves a new certificate`).not.toBe(issuedSerial[name]);
      issuedSerial[name] = tls.serial;
    }
    expect(await workerPid()).toBe(pidBefore);
  }, 2 * ISSUE_WAIT_MS + 60_000);

  it('keeps the old certificate and records the error when the CA is gone', async () => {
    expect(Object.keys(issuedSerial)).toHaveLength(NAMES.length);
    await docker.getContainer(ca.pebbleContainerId).stop({ t: 1 });
    caStopped = true;
    await runAcme({ renewDays: 100_000 });
    for (const name of NAMES) {
      const status = await waitForStatus(name, (s) => s.result === 'failed', 90_000);
      expect(status.lastError).toMatch(/lego exited \d+: .*(pebble|14000|connection refused|no route|timeout)/i);
      expect(status.lastSuccess).toBeDefined();
      expect(status.notAfter).toBeDefined();
      const tls = await served(name, root);
      expect(tls.authorized).toBe(true);
      expect(tls.serial).toBe(issuedSerial[name]);
    }
    // The next pass comes after RETRY_FIRST_SECONDS, not N hours (nor the hour it used to be).
    const retryLine = `next pass in ${RETRY_FIRST_SECONDS} s (failed passes in a row: 1)`;
    let logs = '';
    for (let i = 0; i < 40 && !logs.includes(retryLine); i++) {
      logs = await onHost(sandbox, hostName, `docker logs --tail 20 ${ACME_NAME} 2>&1`);
      if (!logs.includes(retryLine)) await sleep(250);
    }
    expect(logs).toContain(retryLine);
    expect(await workerPid()).toBe(pidBefore);
  });

  it('shows no private key in the container\'s inspect or logs', async () => {
    expect(caStopped).toBe(true);
    const pems = await onHost(sandbox, hostName, `cat ${NAMES.map((n) => `${HOST_DIR}/certs/${n}.pem`).join(' ')}; docker exec ${ACME_NAME} sh -c 'cat /var/lib/lego/accounts/*/*/keys/*.key'`);
    const secrets = keyLines(pems);
    expect(secrets.length).toBeGreaterThanOrEqual(NAMES.length + 1);
    const inspect = JSON.stringify(await hostDocker.getContainer(ACME_NAME).inspect());
    const logs = await onHost(sandbox, hostName, `docker logs ${ACME_NAME} 2>&1`);
    expect(logs).toMatch(/lego failed/);
    for (const text of [inspect, logs]) {
      expect(text).not.toMatch(/PRIVATE KEY/);
      for (const line of secrets) expect(text).not.toContain(line);
    }
    for (const name of NAMES) expect(statusPath(name)).toBe(`${PROXY_CONTAINER_DIR}/certs/${name}.status.json`);
  });
});
