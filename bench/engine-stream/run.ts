// What one stream to a host's engine costs, the way gangway opens it (a forward of the engine's
// socket over the host's SSH connection) and the way it falls back to when sshd refuses that
// (`docker system dial-stdio` in a session): wall time of a fresh stream's first Engine API
// request (GET /_ping) and the host's CPU time it took, read from the host container's cgroup on
// this machine. Both ways in turns on one sandbox host, through gangway's own SshHost.
// Run: npm run build && npx tsx bench/engine-stream/run.ts [--record]   (BENCH_RUNS=40)
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Events } from '../../src/events/events.js';
import { SshHost } from '../../src/hosts/ssh-host.js';
import type { SandboxInfo } from '../../src/sandbox/types.js';
import { median } from '../cli-startup/report.js';
import { recordSection } from '../record.js';
import { onBenchSandbox } from '../zero-downtime/sandbox.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const SHAPE = { id: 'bench-engine-stream', hosts: 1 };
const COMMAND = 'npm run build && npx tsx bench/engine-stream/run.ts --record';
const WAYS = ['forward', 'dial-stdio'] as const;
type Way = (typeof WAYS)[number];

const say = (line: string): void => { process.stderr.write(`[bench engine-stream] ${line}\n`); };

/** The host container's CPU time so far, in ms: cgroup v1 (cpuacct) or v2 (cpu.stat). */
function cgroupCpuReader(containerId: string): () => number {
  const v1 = [`/sys/fs/cgroup/cpuacct/docker/${containerId}/cpuacct.usage`, `/sys/fs/cgroup/cpu,cpuacct/docker/${containerId}/cpuacct.usage`].find(existsSync);
  if (v1) return () => Number(readFileSync(v1, 'utf8')) / 1e6;
  const v2 = [`/sys/fs/cgroup/system.slice/docker-${containerId}.scope/cpu.stat`, `/sys/fs/cgroup/docker/${containerId}/cpu.stat`].find(existsSync);
  if (v2) return () => Number(/usage_usec (\d+)/.exec(readFileSync(v2, 'utf8'))![1]) / 1000;
  throw new Error(`no cgroup CPU accounting found for container ${containerId.slice(0, 12)} on this machine`);
}

interface Sample { wallMs: number; hostCpuMs: number; dialStdio: number; streams: number }

/** A fresh connection and one command on it (not measured), then one stream's first request, measured. */
async function once(info: SandboxInfo, way: Way, hostCpu: () => number): Promise<Sample> {
  const h = info.hosts[0]!;
  const host = new SshHost({
    name: h.name, address: h.address, port: h.sshPort, user: 'root', identityFile: info.keyPath, knownHostsPath: info.knownHostsPath,
    trustOnFirstUse: false, connectTimeoutMs: 10_000, keepaliveIntervalMs: 15_000, engineStreams: way,
  });
  try {
    await host.connect();
    // The first channel of a connection costs sshd more than the next ones, whatever it is; a
    // deploy has opened several before its first Engine API request.
    await host.exec('true');
    const docker = await host.docker();
    const cpu0 = hostCpu();
    const t0 = performance.now();
    await docker.ping();
    const wallMs = performance.now() - t0;
    const hostCpuMs = hostCpu() - cpu0;
    const stats = host.stats();
    return { wallMs, hostCpuMs, dialStdio: stats.dialStdioStreams, streams: stats.dockerStreams };
  } finally {
    await host.close();
  }
}

const samples = new Map<Way, Sample[]>(WAYS.map((w) => [w, []]));
let idleCpuMsPerS = 0;
let loadBefore = '';
const failure = await onBenchSandbox(new Events(), say, async ({ info }) => {
  const hostCpu = cgroupCpuReader(info.hosts[0]!.containerId);
  const c0 = hostCpu();
  await new Promise((r) => setTimeout(r, 2000));
  idleCpuMsPerS = (hostCpu() - c0) / 2;
  loadBefore = loadavg().map((x) => x.toFixed(2)).join(' ');
  for (const way of WAYS) await once(info, way, hostCpu); // uncounted: cold caches
  // In turns: a slow moment of the machine hits both ways alike.
  for (let i = 0; i < RUNS; i++) for (const way of WAYS) samples.get(way)!.push(await once(info, way, hostCpu));
}, '2.6', SHAPE);

const rows = WAYS.map((way) => {
  const s = samples.get(way)!;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return { way, n: s.length, wall: median(s.map((x) => x.wallMs)), cpu: mean(s.map((x) => x.hostCpuMs)), asWanted: s.every((x) => x.streams === 1 && x.dialStdio === (way === 'dial-stdio' ? 1 : 0)) };
});
const label: Record<Way, string> = { forward: 'forward of /var/run/docker.sock (what gangway opens)', 'dial-stdio': '`docker system dial-stdio` session (the fallback)' };
const body = [
  `Measured ${new Date().toISOString()}; Node ${process.version}, ${cpus().length} cores; load average before ${loadBefore}, after ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`,
  `One sandbox host (Docker-in-Docker: sshd + dockerd). Each sample: a new SSH connection through gangway's SshHost and one command on it (not measured), then its first Engine API request (GET /_ping) on a new stream, measured: wall time, and the host container's CPU time over it (its cgroup's usage, read on this machine; the idle host used ${idleCpuMsPerS.toFixed(1)} ms per second, measured before). ${RUNS} samples of each way, in turns.`,
  '',
  '| stream to the engine | samples | first request, median wall ms | host CPU per stream, mean ms | every sample opened the stream this way |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${label[r.way]} | ${r.n} | ${r.wall.toFixed(1)} | ${r.cpu.toFixed(1)} | ${r.asWanted ? 'yes' : 'NO'} |`),
  '',
  rows.every((r) => r.n > 0) ? `The forward: ${(rows[1]!.wall / rows[0]!.wall).toFixed(0)}x less wall time and ${(rows[1]!.cpu / Math.max(0.01, rows[0]!.cpu)).toFixed(0)}x less host CPU per stream than dial-stdio.` : 'Not every way was measured.',
  ...(failure ? ['', `Stopped early: ${(failure as Error).message ?? String(failure)}`] : []),
].join('\n');
process.stdout.write(`${body}\n`);
if (process.argv.includes('--record') && !failure) recordSection('bench/engine-stream', 'A stream to a host\'s engine: socket forward vs dial-stdio (bench/engine-stream)', COMMAND, body);
if (failure) process.exitCode = 1;
