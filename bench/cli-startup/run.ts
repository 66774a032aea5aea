// How fast `gangway --help` and `gangway --version` answer (target: < 150 ms), and how long a
// deploy takes to start (spawn to its first --json event) next to the cost of starting Node
// itself with nothing to do and of importing the four big libraries of the deploy path alone,
// measured in the same run. Prints what it measured; --record writes it into BENCHMARKS.md.
// Run: npm run build && npx tsx bench/cli-startup/run.ts [--record]   (BENCH_RUNS=20)
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordSection } from '../record.js';
import { BIN, gangway, ROOT } from '../zero-downtime/cli.js';
import { bundleGain, deploySample, median, startupSplit, startupTable, type DeploySample } from './report.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const TARGET_MS = 150;
const DEPLOY_TIMEOUT_MS = 30_000;
const COMMAND = 'npm run build && npx tsx bench/cli-startup/run.ts --record';
const LIBRARIES = "await import('dockerode'); await import('ssh2'); await import('zod'); await import('yaml');";

function time(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore', cwd: ROOT });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** A loopback port nothing listens on: bound by the kernel's choice, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A project whose one host is that closed port: the deploy loads everything a real one loads,
 * then fails at connect. Its own key, known_hosts and HOME, so nothing reads the real ~/.ssh.
 */
function deployProject(port: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'gangway-startup-'));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'sec1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  writeFileSync(join(dir, 'id'), privateKey, { mode: 0o600 });
  writeFileSync(
    join(dir, 'gangway.yml'),
    [
      'service: startup',
      'image: 127.0.0.1:5000/bench/startup',
      'servers:',
      '  web: { hosts: [vm1] }',
      'hosts:',
      `  vm1: { address: 127.0.0.1, port: ${port} }`,
      'ssh: { user: root, identity: ./id, known_hosts: ./known_hosts, config: false, connect_timeout: 5s }',
      'proxy: { app_port: 80 }',
      '',
    ].join('\n'),
  );
  return dir;
}

async function deployOnce(dir: string, bin: string = BIN): Promise<DeploySample> {
  const statsFile = join(dir, 'stats.json');
  rmSync(statsFile, { force: true });
  const spawnedAt = Date.now();
  const run = await gangway(['deploy', '--version', '1.0.0'], dir, DEPLOY_TIMEOUT_MS, { HOME: dir, SSH_AUTH_SOCK: '', GANGWAY_STATS_FILE: statsFile }, bin);
  let stats: { cpuUserMs: number; cpuSystemMs: number } | undefined;
  try {
    stats = JSON.parse(readFileSync(statsFile, 'utf8')) as typeof stats;
  } catch {
    stats = undefined;
  }
  const sample = deploySample(run, spawnedAt, stats);
  if (typeof sample === 'string') throw new Error(sample);
  return sample;
}

const cases: Array<[string, string[]]> = [
  ['node -e "" (baseline)', ['-e', '']],
  ['node: import dockerode, ssh2, zod, yaml', ['--input-type=module', '-e', LIBRARIES]],
  ['gangway --version', [BIN, '--version']],
  ['gangway --help', [BIN, '--help']],
];
const DEPLOY_STARTUP = 'gangway deploy: spawn to first --json event';
const DEPLOY_WALL = 'gangway deploy: whole command (fails at connect)';
/** The same deploy run from tsc's output, unbundled: what the bundle (scripts/bundle-cli.mjs) saves. */
const UNBUNDLED = fileURLToPath(new URL('./unbundled.mjs', import.meta.url));
const UNBUNDLED_STARTUP = 'gangway deploy, unbundled (dist/cli/): spawn to first --json event';
const UNBUNDLED_WALL = 'gangway deploy, unbundled (dist/cli/): whole command';

const dir = deployProject(await closedPort());
try {
  const loadBefore = loadavg();
  // One uncounted run of each: the first spawn pays for cold file caches.
  for (const [, args] of cases) time(args);
  await deployOnce(dir);
  await deployOnce(dir, UNBUNDLED);
  const samples = new Map<string, number[]>([...cases.map(([name]) => name), DEPLOY_STARTUP, DEPLOY_WALL, UNBUNDLED_STARTUP, UNBUNDLED_WALL].map((name) => [name, []]));
  const deployCpu: number[] = [];
  const unbundledCpu: number[] = [];
  // Interleaved: a slow moment of the machine hits every command alike.
  for (let i = 0; i < RUNS; i++) {
    for (const [name, args] of cases) samples.get(name)!.push(time(args));
    const d = await deployOnce(dir);
    samples.get(DEPLOY_STARTUP)!.push(d.startupMs);
    samples.get(DEPLOY_WALL)!.push(d.wallMs);
    deployCpu.push(d.cpuMs);
    const u = await deployOnce(dir, UNBUNDLED);
    samples.get(UNBUNDLED_STARTUP)!.push(u.startupMs);
    samples.get(UNBUNDLED_WALL)!.push(u.wallMs);
    unbundledCpu.push(u.cpuMs);
  }
  const loadAfter = loadavg();

  const m = (name: string) => median(samples.get(name)!);
  const base = m(cases[0]![0]);
  const gangwayWorst = Math.max(m('gangway --version'), m('gangway --help'));
  const fmt = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  const body = [
    `Measured ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} cores; load average ${fmt(loadBefore)} before, ${fmt(loadAfter)} after.`,
    `Each run spawns a new Node process (BENCH_RUNS=${RUNS}, the commands interleaved, one uncounted run of each first). bin/gangway.js runs the CLI bundled`,
    '(dist/bundle/, scripts/bundle-cli.mjs: ssh2, dockerode and selfsigned stay in node_modules); "unbundled" is the same deploy run from tsc\'s output (dist/cli/).',
    'Command modules are imported only when their command runs, so help and version load commander alone.',
    `The deploy is a real \`gangway -c gangway.yml --json deploy --version 1.0.0\` whose one host is 127.0.0.1 on a closed port: it loads what every deploy`,
    'loads, reads the config, then fails at connect (exit 1). Its start-up is the first event\'s `ts` minus the time just before the spawn (1 ms resolution);',
    'its CPU is the process\'s own (GANGWAY_STATS_FILE).',
    '',
    ...startupTable([...samples].map(([name, s]) => ({ name, samples: s })), base, RUNS),
    '',
    `The deploy's CPU time (user + system of the process): median ${median(deployCpu).toFixed(1)} ms, ${Math.min(...deployCpu).toFixed(1)} - ${Math.max(...deployCpu).toFixed(1)} ms; unbundled: median ${median(unbundledCpu).toFixed(1)} ms, ${Math.min(...unbundledCpu).toFixed(1)} - ${Math.max(...unbundledCpu).toFixed(1)} ms.`,
    bundleGain({ bundledStartupMs: m(DEPLOY_STARTUP), unbundledStartupMs: m(UNBUNDLED_STARTUP), bundledCpuMs: median(deployCpu), unbundledCpuMs: median(unbundledCpu) }),
    startupSplit({ nodeMs: base, librariesMs: m(cases[1]![0]), deployStartupMs: m(UNBUNDLED_STARTUP) }),
    '',
    `Target: < ${TARGET_MS} ms (median) for --help and --version: ${gangwayWorst < TARGET_MS ? 'met' : 'NOT met'} (slowest median ${gangwayWorst.toFixed(1)} ms).`,
    'The deploy start-up has no target of its own: read it against node alone and the four libraries alone, measured in the same run.',
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (process.argv.includes('--record')) recordSection('bench/cli-startup', 'CLI start-up: `gangway --help` and `--version` (target < 150 ms), and a deploy\'s start-up', COMMAND, body);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
