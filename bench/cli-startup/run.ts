// How fast `gangway --help` and `gangway --version` answer (target: < 150 ms), next to the cost
// of starting Node itself with nothing to do, measured in the same run. Prints what it measured;
// --record writes it into BENCHMARKS.md.
// Run: npm run build && npx tsx bench/cli-startup/run.ts [--record]   (BENCH_RUNS=20)
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { recordSection } from '../record.js';

const BIN = fileURLToPath(new URL('../../bin/gangway.js', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const TARGET_MS = 150;
const COMMAND = 'npm run build && npx tsx bench/cli-startup/run.ts --record';

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function time(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const cases: Array<[string, string[]]> = [
  ['node -e "" (baseline)', ['-e', '']],
  ['gangway --version', [BIN, '--version']],
  ['gangway --help', [BIN, '--help']],
];
const loadBefore = loadavg();
// One uncounted run of each: the first spawn pays for cold file caches.
for (const [, args] of cases) time(args);
const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
// Interleaved: a slow moment of the machine hits every command alike.
for (let i = 0; i < RUNS; i++) for (const [name, args] of cases) samples.get(name)!.push(time(args));
const loadAfter = loadavg();

const base = median(samples.get(cases[0]![0])!);
const medians = new Map(cases.map(([name]) => [name, median(samples.get(name)!)]));
const gangwayWorst = Math.max(...cases.slice(1).map(([name]) => medians.get(name)!));
const fmt = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
const body = [
  `Measured ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} cores; load average ${fmt(loadBefore)} before, ${fmt(loadAfter)} after.`,
  `Each run spawns a new Node process (BENCH_RUNS=${RUNS}, the three commands interleaved, one uncounted run of each first). Command modules (dockerode, ssh2, zod...)`,
  'are imported only when their command runs, so help and version load commander alone.',
  '',
  `| command | median ms (${RUNS} runs) | min - max ms | vs node alone |`,
  '|---|---|---|---|',
  ...cases.map(([name]) => {
    const s = samples.get(name)!;
    return `| ${name} | ${medians.get(name)!.toFixed(1)} | ${Math.min(...s).toFixed(1)} - ${Math.max(...s).toFixed(1)} | ${(medians.get(name)! / base).toFixed(2)} x |`;
  }),
  '',
  `Target: < ${TARGET_MS} ms (median) for both: ${gangwayWorst < TARGET_MS ? 'met' : 'NOT met'} (slowest median ${gangwayWorst.toFixed(1)} ms).`,
].join('\n');
process.stdout.write(`${body}\n`);
if (process.argv.includes('--record')) recordSection('bench/cli-startup', 'CLI start-up: `gangway --help` and `--version` (target < 150 ms)', COMMAND, body);
