// The package as a user gets it: `npm pack` (its prepack script: a clean `npm run build`), the tarball installed into a throwaway project from
// npm's cache only (--offline: no network), both entry points imported from a .ts file that the
// repository's tsc type-checks (skipLibCheck off, so the shipped .d.ts files must resolve) and
// compiles, the result run with node, and `npx gangway --help`. Needs no sandbox and no Docker:
// it runs in its own vitest project, `package`.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** Runs a command, its output in the failure message when it fails. */
async function sh(cmd: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { cwd, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}
interface Lockfile {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

/**
 * The consumer's package-lock.json: gangway from the tarball, and the entries of its runtime
 * dependencies (and @types/node) copied from the repository's lockfile, so that `npm ci --offline`
 * installs them from npm's cache by integrity. (npm ci fills the cache with tarballs, not with the
 * registry metadata a range such as ^14.0.3 needs, so a plain offline install cannot resolve them.)
 */
export function consumerLock(repoLock: Lockfile, gangway: { tarball: string; pkg: LockEntry }, extra: Record<string, string>): Lockfile {
  const packages: Record<string, LockEntry> = {};
  const visit = (from: string, deps: Record<string, string>) => {
    for (const name of Object.keys(deps)) {
      // Node's lookup: from the dependent's own node_modules up to the top level.
      let at = from;
      let found: string | undefined;
      for (;;) {
        const candidate = `${at ? `${at}/` : ''}node_modules/${name}`;
        if (repoLock.packages[candidate]) {
          found = candidate;
          break;
        }
        if (!at) break;
        const up = at.lastIndexOf('/node_modules/');
        at = up < 0 ? '' : at.slice(0, up);
      }
      if (!found) throw new Error(`the repository's lockfile has no ${name} for ${from || 'the root'}`);
      if (packages[found]) continue;
      const entry = repoLock.packages[found]!;
      const { dev: _dev, devOptional: _devOptional, peer: _peer, ...kept } = entry;
      packages[found] = kept;
      const required = Object.fromEntries(Object.entries(entry.peerDependencies ?? {}).filter(([n]) => !entry.peerDependenciesMeta?.[n]?.optional));
      visit(found, { ...entry.dependencies, ...entry.optionalDependencies, ...required });
    }
  };
  const { scripts: _scripts, devDependencies: _devDependencies, files: _files, exports: _exports, ...pkg } = gangway.pkg;
  visit('', { ...(pkg.dependencies ?? {}), ...extra });
  return {
    lockfileVersion: 3,
    packages: {
      '': { name: 'consumer', dependencies: { gangway: `file:${gangway.tarball}`, ...extra } },
      'node_modules/gangway': { ...pkg, resolved: `file:${gangway.tarball}` },
      ...packages,
    },
  } as Lockfile;
}

const CONSUMER = `
import { GangwayError, exitCodeFor, loadConfig, main, type Config, type LoadedConfig } from 'gangway';
import { container, network, wait, type ContainerDefinition, type WaitStrategy } from 'gangway/testing';

const net = network('backend');
const ready: WaitStrategy = wait.forHttp('/up');
const web: ContainerDefinition = container('web', { image: 'busybox:1.36', ports: [8080], networks: [net], wait: ready });

const loaded: LoadedConfig = await loadConfig({ file: 'gangway.yml', cwd: process.cwd(), env: {} });
const config: Config = loaded.config;
let refused = '';
try {
  await loadConfig({ file: 'missing.yml', cwd: process.cwd(), env: {} });
} catch (err) {
  if (err instanceof GangwayError) refused = err.code + ' ' + exitCodeFor(err.code);
}
console.log(JSON.stringify({ service: config.service, roles: loaded.roles.map((r) => r.name), web: web.name, network: net.kind, refused, main: typeof main }));
`;

const CONFIG = 'service: consumer\nimage: example/consumer\nservers:\n  web:\n    hosts: [192.0.2.10]\n';

describe('the packed package', () => {
  let dir: string;
  let project: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gangway-pack-'));
    project = join(dir, 'consumer');
    // prepack builds dist/ afresh (removed first, so no stale file of an older build ships).
    await sh('npm', ['pack', '--silent', '--pack-destination', dir], root);
    const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack wrote no tarball in ${dir}`);
    await mkdir(project);
    // Only npm's cache (filled by npm ci): the tarball, its dependencies and @types/node for the check.
    const typesNode = (JSON.parse(await readFile(join(root, 'node_modules', '@types', 'node', 'package.json'), 'utf8')) as { version: string }).version;
    const extra = { '@types/node': typesNode };
    const repoLock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as Lockfile;
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as LockEntry;
    const tarballPath = join(dir, tarball);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { gangway: `file:${tarballPath}`, ...extra } }));
    await writeFile(join(project, 'package-lock.json'), JSON.stringify(consumerLock(repoLock, { tarball: tarballPath, pkg }, extra)));
    await writeFile(join(project, 'gangway.yml'), CONFIG);
    await writeFile(join(project, 'index.ts'), CONSUMER);
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, types: ['node'], outDir: 'out' },
      files: ['index.ts'],
    }));
    await sh('npm', ['ci', '--offline', '--ignore-scripts'], project);
  }, 600_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('ships the built entry points and no sources or tests', async () => {
    const files = JSON.parse(await sh('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], root)) as Array<{ files: Array<{ path: string }> }>;
    const paths = files[0]!.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['bin/gangway.js', 'dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js', 'dist/testing/index.d.ts', 'dist/cli/main.js', 'dist/bundle/main.js']));
    expect(paths.filter((p) => p.startsWith('src/') || p.startsWith('test/'))).toEqual([]);
  });

  test("type-checks a use of 'gangway' and 'gangway/testing' and runs it with node", async () => {
    await sh('node', [tsc, '-p', 'tsconfig.json'], project);
    const out = JSON.parse((await sh('node', ['out/index.js'], project)).trim()) as Record<string, unknown>;
    expect(out).toEqual({ service: 'consumer', roles: ['web'], web: 'web', network: 'network', refused: 'config 2', main: 'function' });
  });

  test('npx gangway --help', async () => {
    const help = await sh('npx', ['--no', '--', 'gangway', '--help'], project);
    expect(help).toContain('Usage: gangway');
    expect(help).toContain('deploy');
  });

  test('npx gangway config: the bundled CLI loads a command and the config from the installed package', async () => {
    const out = await sh('npx', ['--no', '--', 'gangway', 'config'], project);
    expect(out).toContain('service: consumer');
  });
});
