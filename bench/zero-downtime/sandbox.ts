// The bench's own sandbox (id "bench", registry on an ephemeral loopback port, so it never
// collides with the tests' sandbox on :5000), the images it needs pushed into that registry, and
// a gangway.yml pointing at it.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { Events } from '../../src/events/events.js';
import { buildHello, parseProxyLine, proxyImageOf, sandboxDown, sandboxUp, type HelloVariant, type ProxyLine, type SandboxInfo } from '../../src/sandbox/index.js';
import { onHost, resetHosts, ROOT, writeProject } from '../../test/integration/helpers/deploy.js';
import { recordSection } from '../record.js';

export const BENCH_SANDBOX_ID = 'bench';
export const APP_REPO = 'bench/hello';

export interface BenchSandbox {
  info: SandboxInfo;
  /** The proxy image as the hosts pull it: registry:5000/<repo>:<tag>. */
  proxyImage: string;
  outDir: string;
}

/** The HAProxy line a bench runs (`--proxy 2.6|3.0`, default 2.6), as its headings name it. */
export function benchProxyLine(argv: string[] = process.argv): ProxyLine {
  const at = argv.indexOf('--proxy');
  return parseProxyLine(at > 0 ? argv[at + 1] ?? '' : undefined, '--proxy');
}

/** Which sandbox a bench runs on: its id (its containers' label and names) and its host count. */
export interface BenchSandboxShape {
  id: string;
  hosts: number;
  /** How long each host may take to answer (sandboxUp's default otherwise). */
  readyTimeoutMs?: number;
}

const ZERO_DOWNTIME_SHAPE: BenchSandboxShape = { id: BENCH_SANDBOX_ID, hosts: 3 };

export async function benchSandboxUp(events: Events, line: ProxyLine = '2.6', shape: BenchSandboxShape = ZERO_DOWNTIME_SHAPE): Promise<BenchSandbox> {
  const outDir = mkdtempSync(join(tmpdir(), `gangway-${shape.id}-`));
  const info = await sandboxUp({ id: shape.id, hosts: shape.hosts, registryPort: 0, pushImages: false, outDir, ...(shape.readyTimeoutMs ? { readyTimeoutMs: shape.readyTimeoutMs } : {}) }, events);
  // Without pushImages the proxy image exists only on the runner's engine: push it as the hosts
  // will name it, through the registry's loopback port (a registry ignores the name used to reach it).
  const local = proxyImageOf(info, line);
  const proxyImage = await pushAs(info, local, local.slice(0, local.lastIndexOf(':')), local.split(':').pop()!);
  return { info, proxyImage, outDir };
}

/** Every host back to bare: gangway's containers and state, the bench's containers, the app's images (so a deploy pulls again). */
export async function resetBenchHosts(info: SandboxInfo, repo: string = APP_REPO): Promise<void> {
  await resetHosts(info);
  await Promise.all(info.hosts.map((h) => onHost(info, h.name, `ids=$(docker ps -aq --filter label=gangway.bench); [ -n "$ids" ] && docker rm -f $ids >/dev/null; imgs=$(docker images -q ${info.registry.name}/${repo} | sort -u); [ -n "$imgs" ] && docker rmi -f $imgs >/dev/null; true`)));
}

export async function benchSandboxDown(events: Events, id: string = BENCH_SANDBOX_ID): Promise<void> {
  await sandboxDown({ id }, events);
}

/**
 * Runs a bench's phases on its own sandbox, always taken down afterwards. Returns the error that
 * stopped the phases, if any, so the bench can still print what it measured before it.
 */
export async function onBenchSandbox(events: Events, say: (line: string) => void, body: (bench: BenchSandbox) => Promise<void>, line: ProxyLine = '2.6', shape: BenchSandboxShape = ZERO_DOWNTIME_SHAPE): Promise<unknown> {
  try {
    await body(await benchSandboxUp(events, line, shape));
    return undefined;
  } catch (err) {
    return err;
  } finally {
    say(`sandbox "${shape.id}" down`);
    await benchSandboxDown(events, shape.id).catch((err: unknown) => say(`sandbox down failed: ${(err as Error).message}`));
  }
}

export interface BenchMain {
  /** BENCHMARKS.md markers and heading, and the command the section names. */
  key: string;
  heading: string;
  command: string;
  /** The HAProxy the hosts run (default 2.6). */
  proxyLine?: ProxyLine;
  /** Its own sandbox id, to run beside another bench (default: "bench", 3 hosts). */
  shape?: BenchSandboxShape;
  say: (line: string) => void;
  events: Events;
  phases: (bench: BenchSandbox) => Promise<void>;
  /** The Markdown of what the phases measured, even when they stopped early. */
  render: () => string;
}

/**
 * A sandbox bench's main: the built CLI checked first, the phases on the bench sandbox (always
 * torn down), the result printed, then recorded with --record. A crash is rethrown after the
 * print, so what was measured before it is never lost.
 */
export async function benchMain(b: BenchMain): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const crashed = await onBenchSandbox(b.events, b.say, b.phases, b.proxyLine, b.shape);
  const markdown = b.render();
  process.stdout.write(`${markdown}\n`);
  if (crashed) throw crashed;
  if (!process.argv.includes('--record')) return;
  recordSection(b.key, b.heading, b.command, markdown);
  b.say('recorded in BENCHMARKS.md');
}

/** Tags a local image as 127.0.0.1:<port>/<repo>:<tag>, pushes it, returns registry:5000/<repo>:<tag>. */
export async function pushAs(info: SandboxInfo, localTag: string, repo: string, tag: string): Promise<string> {
  const docker = new Docker();
  const pushName = `127.0.0.1:${info.registry.localPort}/${repo}`;
  await docker.getImage(localTag).tag({ repo: pushName, tag });
  try {
    const stream = await docker.getImage(`${pushName}:${tag}`).push({ authconfig: {} } as Docker.ImagePushOptions);
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) => {
        const failed = err ?? out.find((o) => o.error);
        if (failed) reject(err ?? new Error(String((failed as { error: string }).error)));
        else resolve();
      }),
    );
  } finally {
    // The runner-side alias is only a vehicle for the push; the registry keeps the image.
    await docker.getImage(`${pushName}:${tag}`).remove({ noprune: true }).catch(() => {});
  }
  return `${info.registry.name}/${repo}:${tag}`;
}

export async function pushHelloVersion(info: SandboxInfo, version: string, variant: HelloVariant, repo: string = APP_REPO): Promise<string> {
  const built = await buildHello({ version, variant });
  return pushAs(info, built.tag, repo, version);
}

/** The proxy section of the bench's projects (its image, a 500 ms check), plus `more` (e.g. hosts). */
export function benchProxyConfig(bench: BenchSandbox, more: Record<string, unknown> = {}): Record<string, unknown> {
  return { app_port: 80, image: bench.proxyImage, healthcheck: { path: '/up', interval: '500ms', timeout: '2s' }, ...more };
}

/**
 * The deploy tests' project (web on vm1+vm2, workers on vm3), with the bench's proxy image; of
 * service hello from APP_REPO unless `app` names another service and repository.
 */
export function writeBenchProject(bench: BenchSandbox, env: Record<string, string> = { MODE: 'bench' }, extra: Record<string, unknown> = {}, app: { service?: string; repo?: string } = {}): string {
  return writeProject(bench.info, {
    ...(app.service ? { service: app.service } : {}),
    repo: app.repo ?? APP_REPO,
    extra: {
      proxy: benchProxyConfig(bench),
      env: { clear: env, secret: ['HELLO_SECRET'] },
      ...extra,
    },
  });
}

/** The healthcheck the bench config gives the proxy, for the baselines that talk to it directly. */
export const BENCH_HEALTHCHECK = { path: '/up', intervalMs: 500, timeoutMs: 2000 };
