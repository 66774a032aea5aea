// Helpers of the deploy integration tests: the example app pushed to the sandbox registry, a
// gangway.yml pointing at the sandbox, the real CLI as a child process, and looks at the hosts
// taken from OUTSIDE gangway (docker exec into the host containers), so the tests do not trust
// the code they test.
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { stringify } from 'yaml';
import { buildHello, type HelloVariant } from '../../../src/sandbox/index.js';
import type { SandboxInfo } from '../../../src/sandbox/types.js';
import { combinedLogText } from '../../../src/docker/logs.js';
import type { Deployment } from '../../../src/state/deployment.js';
import { appLabelFilters, LABEL, labelsBelongTo } from '../../../src/state/labels.js';
import { shellQuote } from '../../../src/state/shell.js';

/** The example app's deployment: service hello, no destination. */
export const HELLO: Deployment = { service: 'hello' };
import { testProxyImage } from './proxy-line.js';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'gangway.js');
const docker = new Docker();

/**
 * Builds examples/hello (cached) and pushes it through the sandbox registry's loopback port; the
 * hosts pull it as registry:5000/<repo>:<version>, the name this returns.
 */
export async function pushHello(info: SandboxInfo, repo: string, version: string, variant: HelloVariant = 'ok'): Promise<string> {
  const built = await buildHello({ version, variant, docker });
  return pushBuilt(info, built.tag, repo, version);
}

/** Pushes a locally built image (its tag) as <repo>:<version> through the registry's loopback port; returns the hosts' name for it. */
export async function pushBuilt(info: SandboxInfo, localTag: string, repo: string, version: string): Promise<string> {
  const via = `127.0.0.1:${info.registry.localPort}/${repo}`;
  await docker.getImage(localTag).tag({ repo: via, tag: version });
  const stream = await docker.getImage(`${via}:${version}`).push({ authconfig: {} } as Docker.ImagePushOptions);
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) => {
      const failed = err ?? out.find((o) => o.error);
      if (failed) reject(err ?? new Error(String((failed as { error: string }).error)));
      else resolve();
    }),
  );
  // The runner keeps the hosts' name for it too, as after a `gangway build` (rehearse copies it).
  await docker.getImage(localTag).tag({ repo: `${info.registry.name}/${repo}`, tag: version });
  return `${info.registry.name}/${repo}:${version}`;
}

export interface ConfigOptions {
  service?: string;
  repo: string;
  extra?: Record<string, unknown>;
}

/** A project folder with a gangway.yml for web on vm1+vm2 and workers on vm3. */
export function writeProject(info: SandboxInfo, opts: ConfigOptions): string {
  const dir = mkdtempSync(join(tmpdir(), 'gangway-deploy-it-'));
  const [vm1, vm2, vm3] = info.hosts;
  const config = {
    service: opts.service ?? 'hello',
    image: `${info.registry.name}/${opts.repo}`,
    registry: { server: info.registry.name },
    servers: {
      web: { hosts: [vm1!.name, vm2!.name] },
      workers: { hosts: [vm3!.name], cmd: ['/app/worker'] },
    },
    hosts: Object.fromEntries(info.hosts.map((h) => [h.name, { address: h.address, port: h.sshPort }])),
    // config: false: the tests never read the real ~/.ssh/config.
    ssh: { user: 'root', identity: info.keyPath, known_hosts: info.knownHostsPath, connect_timeout: '3s', config: false },
    proxy: { app_port: 80, image: testProxyImage(info), healthcheck: { path: '/up', interval: '500ms', timeout: '2s' } },
    env: { clear: { MODE: 'test' }, secret: ['HELLO_SECRET'] },
    deploy_timeout: '20s',
    drain_timeout: '5s',
    retain: 3,
    ...(opts.extra ?? {}),
  };
  writeFileSync(join(dir, 'gangway.yml'), stringify(config));
  return dir;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout + stderr, for assertions on what a user sees. */
  output: string;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Called with every chunk of output (e.g. to act when a step begins). */
  onOutput?: (text: string) => void;
  /** Runs the CLI under this command (e.g. strace and its options, ending in --). */
  prefix?: string[];
}

export const TEST_SECRET = 's3cr3t-value-that-must-not-leak';

/** Runs the built CLI; bounded in time (killed after timeoutMs). */
export function gangway(args: string[], opts: CliOptions): Promise<CliResult> {
  return new Promise((resolve) => {
    const [cmd, ...argv] = [...(opts.prefix ?? []), process.execPath, BIN, ...args];
    const child = spawn(cmd!, argv, {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', HELLO_SECRET: TEST_SECRET, ...(opts.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; output += c; opts.onOutput?.(c); });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; output += c; opts.onOutput?.(c); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 137, stdout, stderr, output });
    });
  });
}

/** Runs a shell line inside a sandbox host container (its own dockerd answers there). */
export async function onHost(info: SandboxInfo, host: string, command: string): Promise<string> {
  const id = info.hosts.find((h) => h.name === host)!.containerId;
  const exec = await docker.getContainer(id).exec({ Cmd: ['sh', '-c', command], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((r) => stream.on('end', r));
  return combinedLogText(Buffer.concat(chunks));
}


export interface LabelledContainer {
  name: string;
  status: string;
  /** gangway's labels that say whose a container is; an absent one reads as ''. */
  labels: Record<string, string>;
}

const WHOSE = [LABEL.managed, LABEL.service, LABEL.destination, LABEL.role] as const;

/** `docker ps <psArgs>` on a host, each container with gangway's labels of ownership. */
export async function labelledContainers(info: SandboxInfo, host: string, psArgs: string): Promise<LabelledContainer[]> {
  const format = ['{{.Names}}', '{{.Status}}', ...WHOSE.map((k) => `{{.Label "${k}"}}`)].join('|');
  const out = await onHost(info, host, `docker ps ${psArgs} --format ${shellQuote(format)}`);
  return out.split('\n').filter(Boolean).map((line) => {
    const [name = '', status = '', ...values] = line.split('|');
    return { name, status, labels: Object.fromEntries(WHOSE.map((k, i) => [k, values[i] ?? ''])) };
  });
}

/**
 * name -> status ("Up 3 seconds", "Exited (0) ...") of a deployment's app containers on a host,
 * chosen as gangway chooses them (engine filters, then the labels: another destination's are not
 * listed).
 */
export async function appContainers(info: SandboxInfo, host: string, deployment: Deployment = HELLO): Promise<Map<string, string>> {
  const filters = appLabelFilters(deployment).map((f) => `--filter label=${shellQuote(f)}`).join(' ');
  const mine = (await labelledContainers(info, host, `-a ${filters}`)).filter((c) => labelsBelongTo(c.labels, deployment));
  return new Map(mine.map((c) => [c.name, c.status]));
}

export const isUp = (status: string | undefined): boolean => !!status && status.startsWith('Up');

/** Removes every gangway container, the proxy and gangway's state from every host. */
export async function resetHosts(info: SandboxInfo): Promise<void> {
  await Promise.all(
    info.hosts.map((h) => onHost(info, h.name, 'ids=$(docker ps -aq --filter label=gangway.managed); [ -n "$ids" ] && docker rm -f $ids >/dev/null; rm -rf /var/lib/gangway; true')),
  );
}

/** GET through a web host's proxy (its port 80 published on 127.0.0.1). */
export async function getThroughProxy(info: SandboxInfo, host: string, path = '/'): Promise<{ status: number; body: string }> {
  const port = info.hosts.find((h) => h.name === host)!.httpPort;
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: (await res.text()).trim() };
  } catch (err) {
    return { status: 0, body: String(err) };
  }
}

/** GET / through a web host's proxy with this Host header (one service's name on a shared proxy). */
export function getAs(info: SandboxInfo, host: string, name: string, path = '/'): Promise<{ status: number; body: string }> {
  const port = info.hosts.find((h) => h.name === host)!.httpPort;
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { Host: name }, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, body: String(err) }));
    req.end();
  });
}

/**
 * A bounded load through a web host's proxy while `during` runs: sequential GETs, every answer
 * counted. Stops when `during` settles or after maxMs, whichever is first.
 */
export async function withLoad<T>(info: SandboxInfo, hosts: string[], maxMs: number, during: () => Promise<T>): Promise<{ result: T; requests: number; failures: string[] }> {
  let stop = false;
  const failures: string[] = [];
  let requests = 0;
  const deadline = Date.now() + maxMs;
  const loops = hosts.map(async (host) => {
    while (!stop && Date.now() < deadline) {
      const r = await getThroughProxy(info, host);
      requests++;
      if (r.status !== 200) failures.push(`${host}: ${r.status} ${r.body.slice(0, 80)}`);
    }
  });
  try {
    const result = await during();
    return { result, requests, failures };
  } finally {
    stop = true;
    await Promise.all(loops);
  }
}
