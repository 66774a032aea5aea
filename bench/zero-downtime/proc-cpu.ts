// CPU time of one sandbox host's processes of one name (its HAProxy), read on the runner from
// /proc: a Docker-in-Docker host's processes are the runner kernel's, below the host container's
// init. This machine's cgroups are not per container, so the process tree is the way to tell one
// host's HAProxy from another's (or another bench's).
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: /proc's utime and stime are in these ticks (100 on Linux everywhere it matters here). */
const TICKS_PER_SECOND = 100;

export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime of all its threads, in ms. */
  cpuMs: number;
}

/** Pure: one /proc/<pid>/stat line (comm is in parentheses and may hold spaces or parentheses). */
export function parseProcStat(line: string): ProcStat | undefined {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = line.slice(close + 2).split(' ');
  // After comm: state(3) ppid(4) ... utime(14) stime(15), i.e. rest[0] is field 3.
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (![ppid, utime, stime].every(Number.isFinite)) return undefined;
  return { pid: Number(line.slice(0, open).trim()), comm: line.slice(open + 1, close), ppid, cpuMs: ((utime + stime) * 1000) / TICKS_PER_SECOND };
}

/** Pure: the summed CPU ms of the processes named `comm` below `root` (itself included). */
export function cpuBelow(stats: ProcStat[], root: number, comm: string): number {
  const children = new Map<number, number[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  let total = 0;
  const todo = [root];
  const seen = new Set<number>();
  while (todo.length) {
    const pid = todo.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const s = byPid.get(pid);
    if (s?.comm === comm) total += s.cpuMs;
    todo.push(...(children.get(pid) ?? []));
  }
  return total;
}

function readStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const s = parseProcStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (s) out.push(s);
    } catch {
      // Gone between the listing and the read.
    }
  }
  return out;
}

/** CPU ms so far of the `comm` processes below each root pid (the runner's pids of the host containers). */
export function cpuMsBelow(roots: number[], comm: string): number[] {
  const stats = readStats();
  return roots.map((r) => cpuBelow(stats, r, comm));
}
