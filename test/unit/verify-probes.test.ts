// The probes as pure builders, and the generated script run for real under dash and under a
// busybox-only PATH (the shells and tools of the smallest hosts), against a fixture folder.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCE_KINDS, resourceKind, scriptProbe } from '../../src/checks/registry.js';
import { planChecks } from '../../src/verify/plan.js';
import { buildScript } from '../../src/checks/probes/script.js';
import { hostScript, judgeOutput } from '../../src/verify/run.js';
import { verifySchema } from '../../src/checks/spec.js';
import type { CheckResult } from '../../src/checks/types.js';

const item = (raw: Record<string, unknown>) => verifySchema.parse({ hosts: { h: [raw] } }).hosts.h![0]!;
/** The probe's whole contribution for one check: its shared prelude, then its own lines. */
const shellOf = (raw: Record<string, unknown>) => {
  const c = item(raw);
  const probe = resourceKind(c.type).probe as unknown as { shell(s: unknown): string; prelude?(s: unknown[]): string };
  return `${probe.prelude?.([c.spec]) ?? ''}\n${probe.shell(c.spec)}`;
};

describe('probe builders', () => {
  it.each([
    [{ file: '/etc/x y', sha256: 'a'.repeat(64), contains: "it's", matches: '^a+$' }, ["stat -L -c '%n|%a|%U|%G|%s' '/etc/x y'", "p='/etc/x y'", '_line "$_stf" "$p|"', 'sha256sum', "grep -F -q -e 'it'\\''s'", "grep -E -q -e '^a+$'"]],
    [{ directory: '/var/lib' }, ["stat -L -c '%n|%a|%U|%G|%s' /var/lib", '_line "$_std" "$p|"']],
    [{ package: 'libc6:amd64' }, ["dpkg-query -W -f='${Package}|${Status}|${Version}\\n' libc6", 'n=libc6', "rpm -q --qf '%{VERSION}-%{RELEASE}' libc6:amd64"]],
    [{ process: 'a-very-long-process-name' }, ['/proc/[0-9]*/comm', 'w=a-very-long-pro;']],
    [{ port: 80 }, ['ss -Hlnt', 'tcp:d${_lo##*:}', '/proc/net/tcp /proc/net/tcp6', '"0A"', 'tcp:0050:*|tcp:d80:*)']],
    [{ port: 53, proto: 'udp' }, ['ss -Hlnu', '/proc/net/udp /proc/net/udp6', '"07"', 'udp:0035:*|udp:d53:*)']],
    [{ command: 'echo "$HOME"; exit 2', timeout: '2500ms', stdout: 'x' }, ["timeout 3 sh -c 'echo \"$HOME\"; exit 2'", '</dev/null', '"stdout":\'; _x "$_d/o"']],
    [{ user: 'www-data', groups: ['adm'] }, ['getent passwd www-data', 'cat /etc/passwd', "_line \"$_pw\" www-data:", 'id -Gn www-data']],
    [{ group: 'docker' }, ['getent group docker', 'cat /etc/group', '_line "$_gr" docker:']],
    [{ http: 'http://127.0.0.1/up?a=1&b=2', insecure: true }, ['curl -sS -k', "'http://127.0.0.1/up?a=1&b=2'", 'wget -q -S --no-check-certificate']],
    [{ container: 'hello-web-1.0.0' }, ['docker container inspect --format', 'hello-web-1.0.0', '.State.Health.Status']],
    [{ image: 'registry:5000/a/b:1' }, ['docker image inspect --format', 'registry:5000/a/b:1']],
    [{ mount: '/mnt/a b' }, ["mp='/mnt/a\\040b'", '</proc/mounts', 'while read -r s m t o rest']],
    [{ service: 'ssh.service', enabled: true }, ['[ -d /run/systemd/system ]', 'systemctl is-active ssh.service', 'systemctl is-enabled ssh.service', '/etc/init.d/ssh status', '/etc/rc[2345].d/S[0-9][0-9]ssh']],
    [{ sysctl: 'net.ipv4.ip_forward' }, ["grep -H '' /proc/sys/net/ipv4/ip_forward", '_line "$_sy" /proc/sys/net/ipv4/ip_forward:']],
  ])('%j builds sh with %j', (raw, pieces) => {
    const sh = shellOf(raw);
    for (const piece of pieces) expect(sh).toContain(piece);
  });

  // certificate has no script probe (gangway makes the handshake): see verify-certificate.test.ts.
  it('every declarable resource with a script probe has a probe builder test above', () => {
    const tested = ['file', 'directory', 'package', 'process', 'service', 'port', 'command', 'user', 'group', 'http', 'container', 'image', 'mount', 'sysctl'];
    expect(RESOURCE_KINDS.filter((k) => !k.builtIn && k.probe).map((k) => k.resource.type).sort()).toEqual(tested.sort());
  });

  it('a prelude runs once per script however many checks of its type there are', () => {
    const script = buildScript([item({ file: '/a' }), item({ file: '/b' }), item({ package: 'curl' }), item({ package: 'bash' })], scriptProbe);
    expect(script.match(/stat -L -c/g)).toHaveLength(1);
    expect(script).toContain("stat -L -c '%n|%a|%U|%G|%s' /a /b");
    expect(script.match(/dpkg-query -W/g)).toHaveLength(1);
  });

  it('a command check sends its output back only when it asks about it', () => {
    expect(shellOf({ command: 'true' })).not.toContain('_x');
  });

  it('a script runs every check inside one function fed /dev/null, and makes a temp dir only when needed', () => {
    const plain = buildScript([item({ port: 80 })], scriptProbe);
    expect(plain).toContain('_main </dev/null');
    expect(plain).not.toContain('mktemp');
    expect(buildScript([item({ command: 'true' })], scriptProbe)).toContain('mktemp -d');
  });
});

// --- the generated script, run --------------------------------------------------------------

let dir: string;
let busyboxPath: string;
let server: Server;
let listeningPort = 0;
const hasBusybox = existsSync('/bin/busybox');

beforeAll(async () => {
  server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  listeningPort = (server.address() as { port: number }).port;
  dir = mkdtempSync(join(tmpdir(), 'gangway-verify-unit-'));
  writeFileSync(join(dir, 'conf'), 'listen 80\nname "quoted" \\ back\n');
  chmodSync(join(dir, 'conf'), 0o640);
  mkdirSync(join(dir, 'sub'), { mode: 0o750 });
  chmodSync(join(dir, 'sub'), 0o750);
  symlinkSync(join(dir, 'conf'), join(dir, 'link'));
  busyboxPath = join(dir, 'bb');
  mkdirSync(busyboxPath);
  if (hasBusybox) for (const applet of execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean)) symlinkSync('/bin/busybox', join(busyboxPath, applet));
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const sha256 = (text: string) => execFileSync('sha256sum', { input: text, encoding: 'utf8' }).slice(0, 64);

function runUnder(shell: 'dash' | 'busybox', checks: Array<Record<string, unknown>>): CheckResult[] {
  const plan = planChecks(verifySchema.parse({ hosts: { h: checks } }), [], ['h'], false).get('h')!;
  const script = hostScript(plan);
  const r = shell === 'dash'
    ? spawnSync('/bin/dash', ['-s'], { input: script, encoding: 'utf8' })
    : spawnSync(join(busyboxPath, 'sh'), ['-s'], { input: script, encoding: 'utf8', env: { PATH: busyboxPath } });
  return judgeOutput('h', plan, { code: r.status ?? 255, stdout: r.stdout, stderr: r.stderr });
}

const shells = (hasBusybox ? ['dash', 'busybox'] : ['dash']) as Array<'dash' | 'busybox'>;

describe.each(shells)('the generated script under %s', (shell) => {
  const passing = () => [
    { file: join(dir, 'conf'), mode: '0640', owner: 'root', contains: ['listen 80', 'name "quoted" \\ back'], matches: '^listen [0-9]+$', sha256: sha256('listen 80\nname "quoted" \\ back\n') },
    { file: join(dir, 'link'), mode: '640' },
    { file: join(dir, 'missing'), exists: false },
    { directory: join(dir, 'sub'), mode: '0750' },
    { process: shell === 'dash' ? 'dash' : 'sh' },
    { process: 'no-such-process-x', running: false },
    { port: 1, listening: false },
    { port: listeningPort, address: '127.0.0.1' },
    { command: "printf 'out \\001 é\\n'; echo err >&2; exit 3", exit_code: 3, stdout: 'out \u0001 é', stderr: 'err' },
    { command: 'cat', stdout_matches: '^$' },
    { user: 'root', uid: 0, home: '/root', groups: ['root'] },
    { user: 'no-such-user', exists: false },
    { group: 'root', gid: 0 },
    { mount: '/proc', fstype: 'proc' },
    { mount: join(dir, 'sub'), mounted: false },
    { sysctl: 'kernel.ostype', value: 'Linux' },
  ];

  it('passes checks that hold, with odd bytes in paths, output and contents', () => {
    const results = runUnder(shell, passing());
    expect(results.filter((r) => r.status !== 'pass').map((r) => `${r.title}: ${r.message}`)).toEqual([]);
  });

  it('fails checks that do not hold, saying what was expected and what is there', () => {
    const results = runUnder(shell, [
      { file: join(dir, 'conf'), mode: '0644', contains: 'listen 81' },
      { directory: join(dir, 'conf') },
      { process: 'no-such-process-x' },
      { command: 'echo hi', exit_code: 1, stdout: 'bye' },
      { user: 'no-such-user' },
      { group: 'root', gid: 1 },
      { mount: '/proc', fstype: 'ext4' },
      { sysctl: 'kernel.ostype', value: 'Plan9' },
      { sysctl: 'no.such.param' },
    ]);
    expect(results.map((r) => [r.status, r.message])).toEqual([
      ['fail', 'mode: expected 0644, got 0640'],
      ['fail', 'type: expected directory, got file'],
      ['fail', 'running: expected running, got not running'],
      ['fail', 'exit code: expected 1, got 0'],
      ['fail', 'exists: expected present, got absent'],
      ['fail', 'gid: expected 1, got "0"'],
      ['fail', 'fstype: expected ext4, got "proc"'],
      ['fail', 'value: expected "Plan9", got "Linux"'],
      ['fail', 'exists: expected present, got absent'],
    ]);
    expect(results[0]!.expectations.filter((e) => !e.ok).map((e) => e.attribute)).toEqual(['mode', 'contains']);
  });

  it('a command that reads stdin gets /dev/null, not the rest of the script', () => {
    const results = runUnder(shell, [{ command: 'cat; read x; echo "[$x]"', stdout: '[]' }, { file: join(dir, 'conf') }]);
    expect(results.map((r) => r.status)).toEqual(['pass', 'pass']);
  });

  it('a command that kills its own shell takes only its own check down', () => {
    const results = runUnder(shell, [{ command: 'kill -9 $$', exit_code: 137 }, { file: join(dir, 'conf') }]);
    expect(results.map((r) => r.status)).toEqual(['pass', 'pass']);
  });
});
