// Benchmark (not a test): 100 checks on each of 3 sandbox hosts, gangway verify (one script per
// host) against real Testinfra (Debian's python3-testinfra, run by pytest) with each of its SSH
// backends, on the same hosts, the same checks and as many rounds, interleaved in one run.
//   Run: npx tsx bench/verify/run.ts [--record]     (BENCH_RUNS=9 by default)
// Needs /usr/bin/python3 with Testinfra and paramiko: apt-get install python3-testinfra python3-paramiko
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Events } from '../../src/events/events.js';
import { plainRenderer } from '../../src/events/renderers.js';
import type { Host } from '../../src/hosts/host.js';
import { createHost } from '../../src/hosts/pool.js';
import { sandboxDown, sandboxUp } from '../../src/sandbox/index.js';
import type { SandboxInfo } from '../../src/sandbox/types.js';
import { planChecks } from '../../src/verify/plan.js';
import { runHostChecks } from '../../src/verify/run.js';
import { verifySchema } from '../../src/checks/spec.js';
import type { PlannedCheck } from '../../src/checks/types.js';
import { recordSection } from '../record.js';

const SANDBOX_ID = 'verifybench';
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const CHECKS_PER_HOST = 100;
/** Round trips of `true` per host for the "where the time goes" line. */
const PROBE_EXECS = 20;
const PYTHON = '/usr/bin/python3';
const APT_PACKAGES = 'python3-testinfra python3-paramiko';
const TESTINFRA_FILE = fileURLToPath(new URL('./testinfra_checks.py', import.meta.url));
const COMMAND = 'npx tsx bench/verify/run.ts --record';

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** A realistic mix, 100 in all: what a host check list looks like (the items of a verify file). */
function benchItems(): Array<Record<string, unknown>> {
  const items: Array<Record<string, unknown>> = [];
  const files = ['/etc/passwd', '/etc/group', '/etc/hostname', '/etc/hosts', '/etc/ssh/sshd_config', '/etc/os-release', '/usr/sbin/sshd', '/usr/sbin/dockerd', '/etc/resolv.conf', '/etc/shells'];
  for (const f of files) items.push({ file: f, owner: 'root' }, { file: f, group: 'root' });
  for (const d of ['/etc', '/var/lib/docker', '/root', '/tmp', '/usr/bin', '/var/log', '/run/sshd', '/etc/ssh', '/usr/sbin', '/var/lib']) items.push({ directory: d });
  for (const p of ['openssh-server', 'docker.io', 'curl', 'procps', 'iproute2', 'ca-certificates', 'dpkg', 'coreutils', 'bash', 'grep']) items.push({ package: p });
  for (const p of ['sshd', 'dockerd', 'containerd', 'no-such-a', 'no-such-b']) items.push({ process: p, running: !p.startsWith('no-') }, { process: p, running: !p.startsWith('no-') });
  for (const port of [22, 22, 1, 2, 3, 4, 5, 6, 7, 8]) items.push({ port, listening: port === 22 });
  for (let i = 0; i < 10; i++) items.push({ command: i % 2 ? 'true' : 'echo ok', ...(i % 2 ? {} : { stdout: 'ok' }) });
  for (const u of ['root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'nobody']) items.push({ user: u });
  for (const g of ['root', 'daemon', 'bin', 'sys', 'adm']) items.push({ group: g });
  for (const k of ['kernel.ostype', 'kernel.osrelease', 'net.ipv4.ip_forward', 'kernel.hostname', 'vm.swappiness', 'fs.file-max', 'kernel.pid_max', 'net.core.somaxconn', 'kernel.threads-max', 'vm.overcommit_memory']) items.push({ sysctl: k });
  for (const m of ['/', '/proc', '/sys', '/dev', '/var/lib/docker']) items.push({ mount: m });
  if (items.length !== CHECKS_PER_HOST) throw new Error(`bench list has ${items.length} checks`);
  return items;
}

function planned(items: Array<Record<string, unknown>>): PlannedCheck[] {
  return planChecks(verifySchema.parse({ hosts: { h: items } }), [], ['h'], false).get('h')!;
}

/** Versions of the baseline's parts, or why it cannot run here. */
function testinfraVersions(): string {
  const r = spawnSync(PYTHON, ['-c', "import importlib.metadata as m, paramiko; print('Testinfra %s (pytest %s, paramiko %s)' % (m.version('pytest-testinfra'), m.version('pytest'), paramiko.__version__))"], { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`This bench runs real Testinfra with ${PYTHON}; it is missing here.\nInstall Debian's packages: apt-get install ${APT_PACKAGES}\n${r.stderr}`);
    process.exit(2);
  }
  const ssh = spawnSync('ssh', ['-V'], { encoding: 'utf8' });
  return `${r.stdout.trim()}, ${(ssh.stderr || ssh.stdout).trim().split(',')[0]}`;
}

/**
 * An ssh_config naming the sandbox hosts, read by both Testinfra backends (`--ssh-config`).
 * ControlPath makes the ssh backend's own `ControlMaster=auto ControlPersist=60s` take effect: its
 * best setting, every command multiplexed on one connection per host (without a ControlPath each
 * check would open a new SSH connection).
 */
function writeSshConfig(info: SandboxInfo, dir: string): string {
  const path = join(dir, 'ssh_config');
  const blocks = info.hosts.map((h) => [
    `Host ${h.name}`,
    `  HostName ${h.address}`,
    `  Port ${h.sshPort}`,
    '  User root',
    `  IdentityFile ${info.keyPath}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${info.knownHostsPath}`,
    '  StrictHostKeyChecking yes',
    `  ControlPath ${join(dir, 'cm-%C')}`,
  ].join('\n'));
  writeFileSync(path, `${blocks.join('\n\n')}\n`);
  return path;
}

type Backend = 'ssh' | 'paramiko';
interface Round { wallMs: number; perHostMs: number[]; commandsPerHost: number[] }

/**
 * One Testinfra run: one pytest process per host, all at once (Testinfra runs a host's tests in
 * order; hosts in parallel is the fastest it offers). Each process connects, then waits at a
 * barrier, so the timed part starts together on every host, as gangway's does: from the go signal
 * to the last host's last check.
 */
async function testinfraRound(backend: Backend, hosts: string[], sshConfig: string, checksFile: string, dir: string): Promise<Round> {
  const go = join(dir, 'go');
  rmSync(go, { force: true });
  const runs = hosts.map((name) => {
    const out = join(dir, `out-${name}.json`);
    const ready = join(dir, `ready-${name}`);
    for (const f of [out, ready]) rmSync(f, { force: true });
    const child = spawn(PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', '--rootdir', dir, '-c', join(dir, 'pytest.ini'), `--hosts=${backend}://${name}`, `--ssh-config=${sshConfig}`, TESTINFRA_FILE], {
      cwd: dir,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', GANGWAY_BENCH_CHECKS: checksFile, GANGWAY_BENCH_OUT: out, GANGWAY_BENCH_READY: ready, GANGWAY_BENCH_GO: go },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    return { name, out, ready, exited, output: () => output };
  });
  const deadline = Date.now() + 60_000;
  while (!runs.every((r) => existsSync(r.ready))) {
    const done = await Promise.race([...runs.map((r) => r.exited.then(() => r)), sleep(5).then(() => undefined)]);
    if (done) throw new Error(`Testinfra (${backend}) on ${done.name} exited before its checks:\n${done.output()}`);
    if (Date.now() > deadline) throw new Error(`Testinfra (${backend}) did not connect within 60 s`);
  }
  const goAt = Date.now();
  writeFileSync(go, '');
  const results = await Promise.all(runs.map(async (r) => {
    const code = await r.exited;
    if (code !== 0) throw new Error(`Testinfra (${backend}) on ${r.name}: pytest exited ${code} (every check must pass, as gangway's do):\n${r.output().slice(-3000)}`);
    return JSON.parse(readFileSync(r.out, 'utf8')) as { startEpochMs: number; endEpochMs: number; commands: number };
  }));
  return {
    wallMs: Math.max(...results.map((x) => x.endEpochMs)) - goAt,
    perHostMs: results.map((x) => x.endEpochMs - x.startEpochMs),
    commandsPerHost: results.map((x) => x.commands),
  };
}

/** gangway verify's declared checks on every host at once; counts the execs it sends. */
async function gangwayRound(hosts: Host[], checks: PlannedCheck[]): Promise<Round> {
  const t0 = performance.now();
  const per = await Promise.all(hosts.map(async (h) => {
    let execs = 0;
    const counted: Host = Object.create(h, { exec: { value: (...a: Parameters<Host['exec']>) => { execs++; return h.exec(...a); } } });
    const s = performance.now();
    const results = await runHostChecks(counted, checks);
    const bad = results.filter((r) => r.status !== 'pass');
    if (bad.length) throw new Error(`gangway: ${bad.length} checks do not pass on ${h.name}: ${bad.slice(0, 3).map((r) => `${r.title}: ${r.message}`).join('; ')}`);
    return { ms: performance.now() - s, execs };
  }));
  return { wallMs: performance.now() - t0, perHostMs: per.map((p) => p.ms), commandsPerHost: per.map((p) => p.execs) };
}

async function main(): Promise<void> {
  const record = process.argv.includes('--record');
  const versions = testinfraVersions();
  const events = new Events();
  events.on(plainRenderer({ out: process.stderr }));
  const dir = mkdtempSync(join(tmpdir(), 'gangway-verifybench-'));
  const hosts: Host[] = [];
  let info: SandboxInfo | undefined;
  let sshConfig: string | undefined;
  try {
    info = await sandboxUp({ id: SANDBOX_ID, hosts: 3, registryPort: 0, pushImages: false, outDir: dir }, events);
    for (const h of info.hosts) {
      hosts.push(createHost({ name: h.name, address: h.address, port: h.sshPort, user: 'root', identityFile: info.keyPath, local: false }, { knownHostsPath: info.knownHostsPath, trustOnFirstUse: false, connectTimeoutMs: 10_000, keepaliveIntervalMs: 15_000 }));
    }
    await Promise.all(hosts.map((h) => h.connect()));
    const items = benchItems();
    const checks = planned(items);
    const checksFile = join(dir, 'checks.json');
    writeFileSync(checksFile, JSON.stringify(items));
    writeFileSync(join(dir, 'pytest.ini'), '[pytest]\n');
    sshConfig = writeSshConfig(info, dir);
    const names = info.hosts.map((h) => h.name);

    // Freshly started hosts are still settling their engines: a few uncounted gangway rounds until
    // every check passes, then one uncounted round of each contender.
    for (let i = 0; ; i++) {
      try { await gangwayRound(hosts, checks); break; } catch (err) { if (i >= 10) throw err; await sleep(1000); }
    }
    const contenders: Record<string, () => Promise<Round>> = {
      [`Testinfra, ssh backend (OpenSSH, one multiplexed connection per host)`]: () => testinfraRound('ssh', names, sshConfig!, checksFile, dir),
      [`Testinfra, paramiko backend`]: () => testinfraRound('paramiko', names, sshConfig!, checksFile, dir),
      'gangway verify (one script per host)': () => gangwayRound(hosts, checks),
    };
    const GANGWAY = 'gangway verify (one script per host)';
    for (const [name, fn] of Object.entries(contenders)) { say(`warm-up: ${name}`); await fn(); }
    // The ssh backend's commands go through one master connection per host (what the table says).
    for (const h of names) {
      const check = spawnSync('ssh', ['-F', sshConfig, '-O', 'check', h], { encoding: 'utf8' });
      if (check.status !== 0) throw new Error(`no OpenSSH master connection to ${h} after Testinfra's ssh backend ran: ${check.stderr.trim()}`);
    }

    const rounds: Record<string, Round[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
    const entries = Object.entries(contenders);
    for (let i = 0; i < RUNS; i++) {
      // Interleaved, the order rotated every round: a slow moment of the shared machine hits every contender alike.
      const order = [...entries.slice(i % entries.length), ...entries.slice(0, i % entries.length)];
      for (const [name, fn] of order) rounds[name]!.push(await fn());
      say(`round ${i + 1}/${RUNS}: ${Object.entries(rounds).map(([n, r]) => `${n.split(' (')[0]} ${Math.round(r.at(-1)!.wallMs)} ms`).join(', ')}`);
    }

    // Where gangway's time goes: one host alone, and the round trip of an exec of `true`.
    const alone: number[] = [];
    for (let i = 0; i < RUNS; i++) alone.push((await gangwayRound([hosts[0]!], checks)).wallMs);
    const trueExec: number[] = [];
    for (const h of hosts) for (let i = 0; i < PROBE_EXECS; i++) { const s = performance.now(); await h.exec('true', { timeoutMs: 10_000 }); trueExec.push(performance.now() - s); }
    const load = loadavg().map((l) => l.toFixed(1)).join(' ');

    const gw = rounds[GANGWAY]!;
    const gwWall = median(gw.map((r) => r.wallMs));
    const rows = Object.entries(rounds).map(([name, list]) => {
      const wall = median(list.map((r) => r.wallMs));
      const perHost = median(list.flatMap((r) => r.perHostMs));
      const commands = [...new Set(list.flatMap((r) => r.commandsPerHost))].sort((a, b) => a - b).join('-');
      const paired = median(list.map((r, i) => r.wallMs / gw[i]!.wallMs));
      const isGw = name === GANGWAY;
      return { name, wall, perHost, commands, ratio: wall / gwWall, paired, line: `| ${name} | ${list.length} | ${Math.round(wall)} | ${Math.round(perHost)} | ${commands} | ${isGw ? '-' : `${(wall / gwWall).toFixed(1)} x`} | ${isGw ? '-' : `${paired.toFixed(1)} x`} |` };
    });
    const table = [
      '| contender | rounds | 3 hosts x 100 checks, wall ms (median) | per host ms (median) | commands sent per host | gangway is faster by (ratio of medians) | gangway is faster by (median of per-round ratios) |',
      '|---|---|---|---|---|---|---|',
      ...rows.map((r) => r.line),
    ];
    const baselines = rows.filter((r) => r.name !== GANGWAY);
    const verdict = `Target: >= 50 x faster than Testinfra and < 300 ms for the 3-host run (gangway: ${Math.round(gwWall)} ms): ${baselines.map((b) => `against Testinfra's ${b.name.includes('paramiko') ? 'paramiko' : 'ssh'} backend (${b.ratio.toFixed(1)} x): ${b.ratio >= 50 && gwWall < 300 ? 'met' : 'NOT met'}`).join('; ')}.`;
    const where = [
      `Where the time goes, measured in the same run: an exec of \`true\` on one of gangway's connections takes ${median(trueExec).toFixed(1)} ms (median of ${trueExec.length});`,
      `gangway's one script takes ${Math.round(median(alone))} ms on one host alone and ${Math.round(median(gw.flatMap((r) => r.perHostMs)))} ms per host with 3 hosts at once (the 3 hosts' scripts share ${cpus().length} cores).`,
      ...baselines.map((b) => `Testinfra's ${b.name.includes('paramiko') ? 'paramiko' : 'ssh'} backend sends ${b.commands} commands per host for the 100 checks, ${(b.perHost / Number(b.commands.split('-')[0])).toFixed(1)} ms each with 3 hosts at once.`),
    ].join(' ');
    const body = [
      `Measured ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} cores; load average at the end ${load}. Baseline: ${versions}, run by ${PYTHON} -m pytest.`,
      `Its own 3-host sandbox (\`${SANDBOX_ID}\`: Docker-in-Docker Debian hosts with sshd, reached over 127.0.0.1). The same 100 checks per host for every contender, a realistic mix:`,
      '20 file, 10 directory, 10 package, 10 process, 10 port, 10 command, 10 user, 5 group, 10 sysctl, 5 mount (bench/verify/testinfra_checks.py writes each as',
      'a Testinfra test with its own modules: host.file, host.package, host.process, host.socket, host.run, host.user, host.group, host.sysctl, host.mount_point); every',
      'check passes on every host, for every contender, in every round (a round where one does not is an error).',
      'Testinfra: one pytest process per host, all 3 at once; both backends read one ssh_config naming the hosts, and for the ssh backend it sets a ControlPath, so its',
      '`ControlMaster=auto` multiplexes every command on one connection per host. gangway: one ssh2 connection per host. For all, the connection is opened before',
      'the timed part (handshakes and Python or Node start-up excluded), and the 3 hosts start together: the wall time runs to the last host\'s last check.',
      `Each contender gets one uncounted warm-up round; rounds are interleaved, the order rotated each round. "Commands sent per host" counts the backend's`,
      'run calls (Testinfra) or execs (gangway), as measured.',
      '',
      ...table,
      '',
      verdict,
      '',
      where,
    ].join('\n');
    process.stdout.write(`${body}\n`);
    if (record) {
      recordSection('bench/verify', 'gangway verify vs Testinfra: 100 checks on 3 hosts', COMMAND, body);
      say('recorded in BENCHMARKS.md');
    }
  } finally {
    if (info && sshConfig) for (const h of info.hosts) spawnSync('ssh', ['-F', sshConfig, '-O', 'exit', h.name], { stdio: 'ignore' });
    await Promise.all(hosts.map((h) => h.close().catch(() => {})));
    await sandboxDown({ id: SANDBOX_ID }, events).catch((err: unknown) => { process.stderr.write(`sandbox down failed: ${String(err)}\n`); });
  }
}

await main();
