// How fast `gangway --help` and `gangway --version` answer (target: < 150 ms), next to the cost
// of starting Node itself with nothing to do, measured in the same run.
// Run: npm run build && npx tsx bench/cli-startup/run.ts
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/gangway.js', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 20);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
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
const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (let i = 0; i < RUNS; i++) for (const [name, args] of cases) samples.get(name)!.push(time(args));

const base = median(samples.get(cases[0]![0])!);
console.log(`| command | median ms (${RUNS} runs) | vs node alone |`);
console.log('|---|---|---|');
for (const [name] of cases) {
  const m = median(samples.get(name)!);
  console.log(`| ${name} | ${m.toFixed(1)} | ${(m / base).toFixed(2)} x |`);
}
