// Helpers of the release integration tests: a throwaway registry built from Debian's
// docker-registry binary, and the gangway CLI run as a real child process.
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const TEST_LABEL = 'gangway.test=release';
export const REGISTRY_IMAGE = 'gangway-test-registry:2.8';

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/** FROM scratch + /usr/bin/docker-registry and the two libraries it links (TESTBED.md). */
export async function buildRegistryImage(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gangway-registry-image-'));
  try {
    copyFileSync('/usr/bin/docker-registry', join(dir, 'docker-registry'));
    copyFileSync('/lib/x86_64-linux-gnu/libc.so.6', join(dir, 'libc.so.6'));
    copyFileSync('/lib64/ld-linux-x86-64.so.2', join(dir, 'ld-linux-x86-64.so.2'));
    writeFileSync(join(dir, 'Dockerfile'), [
      'FROM scratch',
      'COPY libc.so.6 /lib/x86_64-linux-gnu/libc.so.6',
      'COPY ld-linux-x86-64.so.2 /lib64/ld-linux-x86-64.so.2',
      'COPY docker-registry /bin/docker-registry',
      'ENTRYPOINT ["/bin/docker-registry", "serve", "/etc/registry/config.yml"]',
    ].join('\n'));
    await docker('build', '-q', '--label', TEST_LABEL, '-t', REGISTRY_IMAGE, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TestRegistry {
  id: string;
  address: string;
  configDir: string;
}

/**
 * A registry on a free port of 127.0.0.1 (several test runs may overlap), optionally with
 * htpasswd auth or read-only.
 */
export async function startRegistry(opts: { role: string; htpasswd?: string; readonly?: boolean }): Promise<TestRegistry> {
  const configDir = mkdtempSync(join(tmpdir(), 'gangway-registry-config-'));
  const lines = [
    'version: 0.1',
    'log: { level: warn }',
    'storage:',
    '  filesystem: { rootdirectory: /var/lib/registry }',
    ...(opts.readonly ? ['  maintenance: { readonly: { enabled: true } }'] : []),
    'http: { addr: ":5000" }',
    ...(opts.htpasswd ? ['auth: { htpasswd: { realm: gangway-test, path: /etc/registry/htpasswd } }'] : []),
  ];
  writeFileSync(join(configDir, 'config.yml'), `${lines.join('\n')}\n`);
  if (opts.htpasswd) writeFileSync(join(configDir, 'htpasswd'), opts.htpasswd);
  const name = `gangway-release-test-${opts.role}-${process.pid}-${Date.now().toString(36)}`;
  let id: string;
  try {
    id = await docker('run', '-d', '--name', name, '--label', TEST_LABEL, '-p', '127.0.0.1::5000', '-v', `${configDir}:/etc/registry:ro`, REGISTRY_IMAGE);
  } catch (err) {
    // A failed port bind leaves a created container behind: remove it by its unique name.
    await docker('rm', '-f', name).catch(() => '');
    rmSync(configDir, { recursive: true, force: true });
    throw err;
  }
  const address = (await docker('port', id, '5000/tcp')).split('\n')[0]!.trim();
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`registry on ${address} did not start: ${await docker('logs', id).catch(() => '')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { id, address, configDir };
}

export async function stopRegistry(r: TestRegistry | undefined): Promise<void> {
  if (!r) return;
  await docker('rm', '-f', '-v', r.id).catch(() => '');
  rmSync(r.configDir, { recursive: true, force: true });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI from source (tsx), as a separate process, like a user or CI would run it. */
export function gangway(args: string[], opts: { cwd: string; env?: Record<string, string>; onStart?: (pid: number) => void; timeoutMs?: number }): Promise<CliResult> {
  const loader = join(ROOT, 'node_modules/tsx/dist/loader.mjs');
  const entry = `import(${JSON.stringify(join(ROOT, 'src/cli/main.ts'))}).then(async (m) => { process.exitCode = await m.main(process.argv); })`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', loader, '-e', entry, 'gangway', ...args], {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    child.on('error', reject);
    child.on('spawn', () => opts.onStart?.(child.pid!));
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? 255, stdout, stderr }); });
  });
}

/** A throwaway app folder: gangway.yml, a Dockerfile and a file whose content makes each version distinct. */
export function makeApp(opts: { image: string; registry?: { server: string; username: string; passwordVar: string } }): string {
  const dir = mkdtempSync(join(tmpdir(), 'gangway-release-app-'));
  const yaml = [
    'service: hello',
    `image: ${opts.image}`,
    ...(opts.registry ? [`registry: { server: "${opts.registry.server}", username: ${opts.registry.username}, password: "\${${opts.registry.passwordVar}}" }`] : []),
    'servers:',
    '  web: { hosts: [localhost] }',
    'build: { context: app, dockerfile: Dockerfile, args: { GREETING: hi } }',
  ];
  writeFileSync(join(dir, 'gangway.yml'), `${yaml.join('\n')}\n`);
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app/Dockerfile'), 'FROM scratch\nARG GREETING\nCOPY version.txt /version.txt\n');
  writeFileSync(join(dir, 'app/.dockerignore'), 'junk\n');
  mkdirSync(join(dir, 'app/junk'));
  writeFileSync(join(dir, 'app/junk/big.bin'), Buffer.alloc(1024));
  return dir;
}

export function setAppVersion(dir: string, version: string): void {
  writeFileSync(join(dir, 'app/version.txt'), `${version}\n`);
}

/** Tags and config digests as the registry API reports them (no gangway code involved). */
export async function remoteTags(address: string, repository: string, auth?: string): Promise<string[]> {
  const res = await fetch(`http://${address}/v2/${repository}/tags/list`, { headers: auth ? { Authorization: auth } : {} });
  if (res.status === 404) return [];
  const body = (await res.json()) as { tags?: string[] | null };
  return (body.tags ?? []).sort();
}

export async function remoteDigest(address: string, repository: string, tag: string): Promise<string | undefined> {
  const res = await fetch(`http://${address}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
  });
  return res.status === 200 ? res.headers.get('docker-content-digest') ?? undefined : undefined;
}

/** Removes every local tag of a repository (the test's own images). */
export async function removeLocalImages(repository: string): Promise<void> {
  const refs = (await docker('images', '--format', '{{.Repository}}:{{.Tag}}', repository).catch(() => '')).split('\n').filter(Boolean);
  if (refs.length) await docker('rmi', '-f', ...refs).catch(() => '');
}
