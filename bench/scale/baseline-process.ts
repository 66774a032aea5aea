// Runs the bare baseline (baseline-main.ts) as a child `node` process, bundled once per bench run
// with esbuild (packages stay in node_modules), so it pays its own Node start-up and module
// loading as gangway's CLI does, and no TypeScript compiler's: the same footing for both.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { HostStats } from '../../src/hosts/host.js';
import type { SandboxInfo } from '../../src/sandbox/index.js';
import type { BareDeploy } from './baseline.js';

const ENTRY = fileURLToPath(new URL('./baseline-main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface BareProcessRun extends BareDeploy {
  /** The same deploy's times counted from its first connection (the process already running). */
  inProcess: { timeToLiveMs: number; totalMs: number };
  /** Spawn to exit, as the bench's parent saw it. */
  wallMs: number;
}

let bundled: Promise<string> | undefined;

/** The baseline's one-file bundle (built once per bench process). */
function bundle(): Promise<string> {
  // Under the project's node_modules, so the bundle resolves dockerode, ssh2... from there.
  const outfile = join(ROOT, 'node_modules', '.cache', `gangway-bench-baseline-${process.pid}.mjs`);
  bundled ??= build({ entryPoints: [ENTRY], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'error' }).then(() => outfile);
  return bundled;
}

/** The bare deploy of `image` (as container `name`) on the named hosts, in its own process. */
export async function bareDeployProcess(info: SandboxInfo, names: string[], image: string, name: string, timeoutMs = 600_000): Promise<BareProcessRun> {
  const script = await bundle();
  const inputFile = join(mkdtempSync(join(tmpdir(), 'gangway-bench-bare-')), 'input.json');
  writeFileSync(inputFile, JSON.stringify({ info, names, image, name }));
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [script, inputFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { err += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`the bare baseline exited with ${code}: ${err.trim().split('\n').slice(-5).join(' | ')}`));
      const r = JSON.parse(out.trim().split('\n').pop()!) as { timeToLiveMs: number; totalMs: number; inProcess: BareProcessRun['inProcess']; stats: Record<string, HostStats>; steps: BareProcessRun['steps'] };
      resolve({ timeToLiveMs: r.timeToLiveMs, totalMs: r.totalMs, inProcess: r.inProcess, stats: new Map(Object.entries(r.stats)), steps: r.steps, wallMs });
    });
  });
}
