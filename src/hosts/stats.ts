// What a command's host connections cost, for benchmarks: the Engine API requests a host's
// dockerode client makes, and, opt-in through GANGWAY_STATS_FILE, a JSON file written at exit with
// every pool's counters by host and the process's own CPU time and peak memory. The file holds
// counts only: no command, address or output.
import { writeFileSync } from 'node:fs';
import type Docker from 'dockerode';
import type { HostStats } from './host.js';

export const STATS_FILE_ENV = 'GANGWAY_STATS_FILE';

export const emptyStats = (): HostStats => ({ connections: 0, execChannels: 0, dockerStreams: 0, dialStdioStreams: 0, dockerRequests: 0, forwards: 0 });

/** Calls `count` once per Engine API request of this client (every dockerode call goes through modem.dial). */
export function countDockerRequests(docker: Docker, count: () => void): Docker {
  const modem = docker.modem as { dial: (...args: unknown[]) => unknown };
  const dial = modem.dial.bind(modem);
  modem.dial = (...args: unknown[]) => {
    count();
    return dial(...args);
  };
  return docker;
}

export interface StatsReport {
  hosts: Record<string, HostStats>;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Peak resident set size of the process, in KiB (getrusage's ru_maxrss). */
  maxRssKb: number;
}

/** Pure: one closed pool's counters added to the command's totals (a host may be in several pools). */
export function addPoolStats(totals: Map<string, HostStats>, pool: Map<string, HostStats>): void {
  for (const [name, s] of pool) {
    const t = totals.get(name) ?? emptyStats();
    for (const k of Object.keys(t) as Array<keyof HostStats>) t[k] += s[k] ?? 0;
    totals.set(name, t);
  }
}

/** Pure: the file's content from the totals and process.resourceUsage() (times in microseconds). */
export function statsReport(totals: Map<string, HostStats>, usage: Pick<NodeJS.ResourceUsage, 'userCPUTime' | 'systemCPUTime' | 'maxRSS'>): StatsReport {
  return {
    hosts: Object.fromEntries(totals),
    cpuUserMs: usage.userCPUTime / 1000,
    cpuSystemMs: usage.systemCPUTime / 1000,
    maxRssKb: usage.maxRSS,
  };
}

const totals = new Map<string, HostStats>();
let writeArmed = false;

/** Keeps a pool's counters for the stats file, when GANGWAY_STATS_FILE names one (written once, at exit). */
export function recordPoolStats(pool: Map<string, HostStats>, env: NodeJS.ProcessEnv = process.env): void {
  const file = env[STATS_FILE_ENV];
  if (!file) return;
  addPoolStats(totals, pool);
  if (writeArmed) return;
  writeArmed = true;
  // At exit, so the CPU time and peak memory cover the whole command.
  process.once('exit', () => writeFileSync(file, `${JSON.stringify(statsReport(totals, process.resourceUsage()))}\n`));
}
