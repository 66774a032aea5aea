// `gangway logs` on the sandbox, through the real CLI: the example app's worker prints a
// numbered heartbeat every second on stdout (and, here, one line on stderr at start), its web
// role one "listening" line. Filters are checked against those known lines: --grep, --since,
// --lines (of what matches), --json fields, per host and role, several containers of a role,
// and -f (no line lost or shown twice between the backlog and the stream).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, gangway, onHost, pushHello, resetHosts, TEST_SECRET, writeProject, type CliResult } from './helpers/deploy.js';
import { LABEL } from '../../src/state/labels.js';

const info = inject('sandbox');
const REPO = 'logs-it/hello';
let project: string;

interface LogEvent { type: string; level?: string; message: string; host?: string; role?: string; container?: string; stream?: string; timestamp?: string; instance?: string; exitCode?: number }
const eventsOf = (stdout: string): LogEvent[] => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogEvent);
const logLines = (r: CliResult): LogEvent[] => eventsOf(r.stdout).filter((e) => e.type === 'log' && e.level === 'info');
const beat = (e: LogEvent): number => Number(/heartbeat (\d+)$/.exec(e.message)?.[1] ?? NaN);
const run = (args: string[]) => gangway(args, { cwd: project, timeoutMs: 60_000 });
const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,9}Z$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('gangway logs', () => {
  beforeAll(async () => {
    await resetHosts(info);
    await pushHello(info, REPO, '1.0.0');
    const [vm1, vm2, vm3] = info.hosts;
    project = writeProject(info, {
      repo: REPO,
      extra: {
        servers: {
          web: { hosts: [vm1!.name, vm2!.name] },
          workers: { hosts: [vm3!.name], cmd: ['sh', '-c', 'echo "worker BOOT line to stderr" >&2; exec /app/worker'] },
        },
      },
    });
    const setup = await gangway(['setup', '--version', '1.0.0'], { cwd: project, timeoutMs: 240_000 });
    expect(setup.code, setup.output).toBe(0);
    // Enough heartbeats for the filters below to have something to leave out.
    for (let i = 0; i < 30; i++) {
      const all = logLines(await run(['--json', 'logs', '--role', 'workers', '--lines', '1']));
      if (all.length === 1 && beat(all[0]!) >= 8) break;
      await sleep(1000);
    }
  }, 420_000);

  afterAll(async () => {
    await resetHosts(info);
    rmSync(project, { recursive: true, force: true });
  });

  it('--json: one event per line with host, role, container, stream and the engine\'s timestamp', async () => {
    const r = await run(['--json', 'logs', '--lines', 'all']);
    expect(r.code, r.output).toBe(0);
    const lines = logLines(r);
    const workers = lines.filter((e) => e.role === 'workers');
    expect(workers.length).toBeGreaterThanOrEqual(8);
    for (const e of workers) {
      expect(e).toMatchObject({ host: 'vm3', container: 'hello-workers-1.0.0' });
      expect(e.timestamp).toMatch(RFC3339_NANO);
      expect(e.instance).toBeUndefined();
    }
    expect(workers.filter((e) => e.stream === 'stderr').map((e) => e.message)).toEqual(['worker BOOT line to stderr']);
    expect(workers.filter((e) => e.stream === 'stdout').every((e) => /^worker 1\.0\.0 heartbeat \d+$/.test(e.message))).toBe(true);
    // The web role: one "listening" line on each of its hosts, none from vm3.
    const web = lines.filter((e) => e.role === 'web');
    expect(web.map((e) => [e.host, e.container, e.message]).sort()).toEqual([
      ['vm1', 'hello-web-1.0.0', 'hello 1.0.0 listening on :80'],
      ['vm2', 'hello-web-1.0.0', 'hello 1.0.0 listening on :80'],
    ]);
  });

  it('per host and role: --host and --role pick the lines, each prefixed with its host and role on a terminal-style output', async () => {
    const vm2 = await run(['--json', 'logs', '--host', 'vm2', '--lines', 'all']);
    expect(new Set(logLines(vm2).map((e) => `${e.host} ${e.role}`))).toEqual(new Set(['vm2 web']));
    const human = await run(['logs', '--role', 'workers', '--lines', '2']);
    expect(human.code, human.output).toBe(0);
    const out = human.stdout.trim().split('\n');
    expect(out).toHaveLength(2);
    for (const l of out) expect(l).toMatch(/^\[vm3 workers\] worker 1\.0\.0 heartbeat \d+$/);
  });

  it('--grep (and -i) keeps the matching lines; --lines is the last N of those that match', async () => {
    const even = logLines(await run(['--json', 'logs', '--role', 'workers', '--lines', 'all', '--grep', 'heartbeat [0-9]*[02468]$']));
    expect(even.length).toBeGreaterThanOrEqual(4);
    expect(even.every((e) => beat(e) % 2 === 0)).toBe(true);
    const boot = logLines(await run(['--json', 'logs', '--grep', 'boot LINE', '-i']));
    expect(boot.map((e) => [e.host, e.role, e.stream, e.message])).toEqual([['vm3', 'workers', 'stderr', 'worker BOOT line to stderr']]);
    expect(logLines(await run(['--json', 'logs', '--grep', 'boot LINE']))).toEqual([]);
    // Heartbeats 1-3 are long past the last 2 lines: only "2 of what matches" finds them.
    const early = logLines(await run(['--json', 'logs', '--role', 'workers', '--lines', '2', '--grep', 'heartbeat [123]$']));
    expect(early.map(beat)).toEqual([2, 3]);
    const tail = logLines(await run(['--json', 'logs', '--role', 'workers', '--lines', '3']));
    expect(tail).toHaveLength(3);
    expect(tail.map(beat)).toEqual([beat(tail[0]!), beat(tail[0]!) + 1, beat(tail[0]!) + 2]);
  });

  it('--since: lines before the moment are left out (an RFC 3339 time from --json, or a duration)', async () => {
    const all = logLines(await run(['--json', 'logs', '--role', 'workers', '--lines', 'all', '--grep', 'heartbeat']));
    const fourth = all.find((e) => beat(e) === 4)!;
    const since = logLines(await run(['--json', 'logs', '--role', 'workers', '--lines', 'all', '--grep', 'heartbeat', '--since', fourth.timestamp!]));
    expect(since[0]!.message).toBe(fourth.message);
    expect(since.map(beat).filter((n) => n < 4)).toEqual([]);
    expect(since.length).toBeGreaterThan(1);
    // A moment half a second after heartbeat 4: it is gone too.
    const later = new Date(Date.parse(fourth.timestamp!) + 500).toISOString();
    expect(logLines(await run(['--json', 'logs', '--role', 'workers', '--lines', 'all', '--grep', 'heartbeat', '--since', later]))[0]!.message).toBe(all.find((e) => beat(e) === 5)!.message);
    const started = Date.now();
    const recent = logLines(await run(['--json', 'logs', '--role', 'workers', '--lines', 'all', '--since', '3s']));
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.length).toBeLessThan(all.length);
    // The CLI started after `started`; 3 s before that, with a second of slack for this machine.
    for (const e of recent) expect(Date.parse(e.timestamp!)).toBeGreaterThanOrEqual(started - 4000);
  });

  it('a role with several containers on a host (as during a deploy) says which container each line is from', async () => {
    // A second workers container made from OUTSIDE gangway, labelled as version 9.9.9 would be.
    const vm3 = info.hosts.find((h) => h.name === 'vm3')!.name;
    const labels = JSON.parse(await onHost(info, vm3, "docker inspect -f '{{json .Config.Labels}}' hello-workers-1.0.0")) as Record<string, string>;
    const image = (await onHost(info, vm3, "docker inspect -f '{{.Config.Image}}' hello-workers-1.0.0")).trim();
    labels[LABEL.version] = '9.9.9';
    const flags = Object.entries(labels).map(([k, v]) => `--label '${k}=${v}'`).join(' ');
    await onHost(info, vm3, `docker run -d --name hello-workers-9.9.9 ${flags} ${image} sh -c 'echo second container says hi; sleep 120'`);
    try {
      await sleep(1000);
      const r = await run(['--json', 'logs', '--role', 'workers', '--lines', '1']);
      expect(logLines(r).map((e) => [e.container, e.instance]).sort()).toEqual([['hello-workers-1.0.0', '1.0.0'], ['hello-workers-9.9.9', '9.9.9']]);
      const human = (await run(['logs', '--role', 'workers', '--lines', '1'])).stdout;
      expect(human).toContain('[vm3 workers 9.9.9] second container says hi');
      expect(human).toMatch(/^\[vm3 workers 1\.0\.0\] worker 1\.0\.0 heartbeat \d+$/m);
    } finally {
      await onHost(info, vm3, 'docker rm -f hello-workers-9.9.9 >/dev/null');
    }
  });

  it('-f: the backlog, then new lines as they come, none lost or doubled, until Ctrl-C (exit 0)', async () => {
    const child = spawn(process.execPath, [BIN, '--json', 'logs', '-f', '--role', 'workers', '--grep', 'heartbeat', '--lines', '2'], { cwd: project, env: { ...process.env, NO_COLOR: '1', HELLO_SECRET: TEST_SECRET }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        stdout += c;
        if (eventsOf(stdout).filter((e) => e.type === 'log' && e.level === 'info').length >= 5) child.kill('SIGINT');
      });
      child.on('close', (c) => resolve(c));
    });
    clearTimeout(killer);
    const beats = eventsOf(stdout).filter((e) => e.type === 'log' && e.level === 'info').map(beat);
    expect(code, stdout).toBe(0);
    expect(beats.length).toBeGreaterThanOrEqual(5);
    expect(beats).toEqual(beats.map((_, i) => beats[0]! + i));
  });

  it('a bad --since, --grep or --lines is exit 2 naming the flag, before the config is even read', async () => {
    // -c names a file that does not exist: the flag's message, not the config's, proves the order.
    for (const [args, flag] of [[['--since', '10x'], '--since 10x'], [['--grep', '(open'], '--grep (open'], [['--lines=-3'], '--lines -3']] as const) {
      const r = await run(['-c', 'missing.yml', 'logs', ...args]);
      expect(r.code, r.output).toBe(2);
      expect(r.output).toContain(flag);
      expect(r.output).not.toContain('missing.yml');
    }
    const acc = await run(['-c', 'missing.yml', 'accessory', 'logs', 'db', '--since', 'soon']);
    expect(acc.code, acc.output).toBe(2);
    expect(acc.output).toContain('--since soon');
  });
});
