// Where the Kamal contender executes: its images (bench/kamal/build.sh, cached by the script),
// one long-lived container on the sandbox network that every `kamal` command runs in (a
// throwaway container per command disturbed the load), and the hosts cleaned of Kamal.
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { Events } from '../../src/events/events.js';
import { ensureImage } from '../../src/sandbox/image-builder.js';
import { buildHello, type HelloVariant, type SandboxInfo } from '../../src/sandbox/index.js';
import { SANDBOX_LABEL } from '../../src/sandbox/types.js';
import { onHost } from '../../test/integration/helpers/deploy.js';
import { ROOT } from './cli.js';
import { KAMAL_PROXY_VERSION, kamalCleanupCommand, kamalDeployConfig, parseBuildOutput, type KamalImages } from './kamal-config.js';
import { pushAs } from './sandbox.js';

const CONTAINER = 'gangway-bench-kamal';
const APP_DIR = '/app';
const KEY_IN_CONTAINER = `${APP_DIR}/.ssh/id_bench`;
export const KAMAL_PROXY_REPOSITORY = 'bench/kamal-proxy';

export interface ProcessRun {
  code: number;
  wallMs: number;
  /** stdout and stderr, interleaved as they came. */
  output: string;
}

/** A child process, bounded in time (SIGKILL at timeoutMs), its output kept. */
export function runProcess(command: string, args: string[], timeoutMs: number, onLine?: (line: string) => void): Promise<ProcessRun> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (c: Buffer) => {
      const text = c.toString('utf8');
      output += text;
      if (onLine) for (const line of text.split('\n')) if (line.trim()) onLine(line);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 137, wallMs: performance.now() - started, output });
    });
  });
}

/** Runs bench/kamal/build.sh on the two bare git directories; it builds only what is not cached. */
export async function buildKamalImages(kamalGit: string, proxyGit: string, say: (line: string) => void): Promise<KamalImages> {
  const script = join(ROOT, 'bench', 'kamal', 'build.sh');
  say(`${script} (builds only when its inputs changed)`);
  const run = await runProcess(script, [kamalGit, proxyGit], 60 * 60_000);
  if (run.code !== 0) throw new Error(`bench/kamal/build.sh failed (exit ${run.code}): ${run.output.trim().split('\n').slice(-5).join(' | ')}`);
  return parseBuildOutput(run.output);
}

/**
 * Pushes hello <version> with the label Kamal insists on (`service=<service>`; it refuses an image
 * without it). Both tools deploy these same images; gangway ignores the label.
 */
export async function pushLabelledHello(info: SandboxInfo, repository: string, service: string, version: string, variant: HelloVariant): Promise<void> {
  const docker = new Docker();
  const events = new Events();
  const hello = await buildHello({ version, variant, docker, events });
  const labelled = await ensureImage(docker, { name: 'bench-hello-labelled', dockerfile: `FROM ${hello.tag}\nLABEL service=${service}\n`, context: [], extraInputs: { base: hello.tag } }, events);
  await pushAs(info, labelled.tag, repository, version);
}

export async function pushKamalProxy(info: SandboxInfo, proxyTag: string): Promise<void> {
  await pushAs(info, proxyTag, KAMAL_PROXY_REPOSITORY, KAMAL_PROXY_VERSION);
}

export interface KamalProject {
  service: string;
  repository: string;
  webHosts: readonly string[];
  deployTimeoutS: number;
}

export interface KamalRunner {
  kamal(args: string[], timeoutMs: number): Promise<ProcessRun>;
  /** Kamal's proxy, app containers, network and state off the hosts, and its container removed. */
  close(): Promise<void>;
}

/**
 * The app directory (config/deploy.yml, the sandbox key, a git repository: `kamal rollback`
 * needs one) bind-mounted into a container of the tools image on the sandbox network.
 */
export async function startKamal(info: SandboxInfo, images: KamalImages, project: KamalProject): Promise<KamalRunner> {
  const dir = mkdtempSync(join(tmpdir(), 'gangway-bench-kamal-'));
  mkdirSync(join(dir, 'config'));
  mkdirSync(join(dir, '.ssh'), { mode: 0o700 });
  copyFileSync(info.keyPath, join(dir, '.ssh', 'id_bench'));
  chmodSync(join(dir, '.ssh', 'id_bench'), 0o600);
  writeFileSync(join(dir, '.gitignore'), '.ssh/\n');
  writeFileSync(join(dir, 'config', 'deploy.yml'), kamalDeployConfig({
    service: project.service,
    repository: project.repository,
    registry: info.registry.name,
    hosts: project.webHosts,
    proxyRepository: KAMAL_PROXY_REPOSITORY,
    keyPath: KEY_IN_CONTAINER,
    deployTimeoutS: project.deployTimeoutS,
    env: { MODE: 'bench' },
  }));
  const docker = new Docker();
  await docker.getContainer(CONTAINER).remove({ force: true }).catch(() => {});
  const container = await docker.createContainer({
    name: CONTAINER,
    Image: images.tools,
    Cmd: ['sleep', 'infinity'],
    WorkingDir: APP_DIR,
    // The sandbox's label: a sandbox teardown removes it too if this process dies first.
    Labels: { [SANDBOX_LABEL]: info.id, 'gangway.bench': 'kamal' },
    HostConfig: { Binds: [`${dir}:${APP_DIR}`], NetworkMode: info.network },
  });
  await container.start();
  const exec = (args: string[], timeoutMs: number) => runProcess('docker', ['exec', '-w', APP_DIR, CONTAINER, ...args], timeoutMs);
  const git = await exec(['sh', '-c', 'git init -q && git add -A && git -c user.email=bench@localhost -c user.name=bench commit -qm bench'], 30_000);
  if (git.code !== 0) throw new Error(`git init of the Kamal app directory failed: ${git.output.trim()}`);
  return {
    kamal: (args, timeoutMs) => exec(['kamal', ...args], timeoutMs),
    async close() {
      await Promise.all(project.webHosts.map((h) => onHost(info, h, kamalCleanupCommand(project.service))));
      await container.remove({ force: true }).catch(() => {});
    },
  };
}

/** What Kamal printed last, for a report line when a command did not end as expected. */
export const tailOf = (run: ProcessRun, lines = 4): string => run.output.trim().split('\n').slice(-lines).join(' | ');
