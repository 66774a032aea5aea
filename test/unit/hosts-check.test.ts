import { describe, expect, it } from 'vitest';
import { describeCheck, diskFreeCommand, formatBytes, parseDfAvailableBytes, probeContainerSpec, shellQuote, PROBE_LABEL } from '../../src/hosts/check.js';
import { decideAuth, expandHome, keyFilesFor } from '../../src/hosts/ssh-auth.js';
import { sshConnectOptions } from '../../src/hosts/pool.js';
import { Semaphore } from '../../src/hosts/semaphore.js';

describe('shellQuote and diskFreeCommand', () => {
  it.each([
    ['/var/lib/docker', `'/var/lib/docker'`],
    ["/it's here", `'/it'\\''s here'`],
    ['/$(rm -rf /)', `'/$(rm -rf /)'`],
  ])('quotes %s as one argument', (path, quoted) => {
    expect(shellQuote(path)).toBe(quoted);
    expect(diskFreeCommand(path)).toBe(`df -Pk ${quoted}`);
  });
});

describe('parseDfAvailableBytes', () => {
  it.each([
    ['a POSIX df line', 'Filesystem     1024-blocks     Used Available Capacity Mounted on\noverlay          102687672 20000000  82687672      20% /\n', 82687672 * 1024],
    ['busybox df -Pk', 'Filesystem           1024-blocks    Used Available Capacity Mounted on\n/dev/sda1              1000      10       990   1% /\n', 990 * 1024],
    ['only a header', 'Filesystem 1024-blocks Used Available Capacity Mounted on\n', undefined],
    ['an error text', 'df: /nope: No such file or directory\n', undefined],
  ])('reads %s', (_what, stdout, bytes) => {
    expect(parseDfAvailableBytes(stdout)).toBe(bytes);
  });
});

describe('probeContainerSpec', () => {
  it('labels the container, cuts its network and runs the given command', () => {
    expect(probeContainerSpec('registry:5000/busybox:1', ['true'], 'ab12')).toEqual({
      name: 'gangway-probe-ab12',
      Image: 'registry:5000/busybox:1',
      Cmd: ['true'],
      Labels: { [PROBE_LABEL]: 'hosts-check' },
      HostConfig: { NetworkMode: 'none' },
    });
  });
});

describe('formatBytes and describeCheck', () => {
  it.each([
    [512, '512 B'],
    [1536, '1.5 KB'],
    [80 * 1024 ** 3, '80 GB'],
  ])('formats %i bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('describes a failed host by its error', () => {
    expect(describeCheck({ host: 'vm2', transport: 'ssh', ok: false, error: 'cannot connect to vm2 (127.0.0.1:2202): unreachable within 3s' })).toBe(
      'cannot connect to vm2 (127.0.0.1:2202): unreachable within 3s',
    );
  });

  it('describes a healthy host with its timings, version, disk and container', () => {
    const line = describeCheck({
      host: 'vm1', transport: 'ssh', ok: true, connectMs: 60, execRoundTripMs: 40, dockerVersion: '20.10.24', dockerFirstCallMs: 50, dockerLaterCallMs: 4,
      dockerRootDir: '/var/lib/docker', diskFreeBytes: 10 * 1024 ** 3, container: { image: 'busybox', pulled: true, exitCode: 0, durationMs: 700 },
    });
    expect(line).toBe('ssh connect 60ms, exec 40ms · docker 20.10.24 (api 50ms first, 4ms later) · 10 GB free on /var/lib/docker · container busybox ok (pulled) in 700ms');
  });
});

describe('keyFilesFor', () => {
  const home = '/home/u';
  const exists = (present: string[]) => (p: string) => present.includes(p);
  it.each([
    ['configured identities, even with an agent', { identityFiles: ['~/keys/deploy', '/k2'], agent: true, present: [] }, { kind: 'files', paths: ['/home/u/keys/deploy', '/k2'] }],
    ['the agent alone when no identity is configured', { identityFiles: [], agent: true, present: ['/home/u/.ssh/id_ed25519'] }, { kind: 'agent-only' }],
    ['id_ed25519 without an agent', { identityFiles: [], agent: false, present: ['/home/u/.ssh/id_ed25519', '/home/u/.ssh/id_rsa'] }, { kind: 'files', paths: ['/home/u/.ssh/id_ed25519'] }],
    ['id_rsa when it is the only key', { identityFiles: [], agent: false, present: ['/home/u/.ssh/id_rsa'] }, { kind: 'files', paths: ['/home/u/.ssh/id_rsa'] }],
    ['nothing, naming what it tried', { identityFiles: [], agent: false, present: [] }, { kind: 'none', tried: ['/home/u/.ssh/id_ed25519', '/home/u/.ssh/id_rsa'] }],
  ])('chooses %s', (_what, input, expected) => {
    const { present, ...rest } = input as { identityFiles: string[]; agent: boolean; present: string[] };
    expect(keyFilesFor({ ...rest, home, fileExists: exists(present) })).toEqual(expected);
  });

  it('expands only a leading ~', () => {
    expect(expandHome('~/x', home)).toBe('/home/u/x');
    expect(expandHome('/a/~/x', home)).toBe('/a/~/x');
  });
});

describe('decideAuth', () => {
  const plain = { path: '/p', encrypted: false };
  const locked = { path: '/enc', encrypted: true };
  it.each([
    ['a plain key, then the agent', { keys: [plain], agent: true, identitiesOnly: false, tty: false }, { kind: 'offer', credentials: [{ kind: 'key', path: '/p' }, { kind: 'agent' }], unlock: [] }],
    ['IdentitiesOnly keeps the agent out', { keys: [plain], agent: true, identitiesOnly: true, tty: false }, { kind: 'offer', credentials: [{ kind: 'key', path: '/p' }], unlock: [] }],
    ['an agent stands in for an encrypted key, even with a terminal and IdentitiesOnly', { keys: [locked], agent: true, identitiesOnly: true, tty: true }, { kind: 'offer', credentials: [{ kind: 'agent' }], unlock: [] }],
    ['no agent, a terminal: ask for the passphrase', { keys: [locked], agent: false, identitiesOnly: false, tty: true }, { kind: 'offer', credentials: [{ kind: 'key', path: '/enc' }], unlock: ['/enc'] }],
    ['no agent, no terminal: the key is named', { keys: [locked], agent: false, identitiesOnly: false, tty: false }, { kind: 'needs-agent', keys: ['/enc'] }],
    ['no agent, no terminal, but a plain key too: that key', { keys: [locked, plain], agent: false, identitiesOnly: false, tty: false }, { kind: 'offer', credentials: [{ kind: 'key', path: '/p' }], unlock: [] }],
    ['the agent alone', { keys: [], agent: true, identitiesOnly: false, tty: false }, { kind: 'offer', credentials: [{ kind: 'agent' }], unlock: [] }],
  ])('%s', (_what, input, expected) => {
    expect(decideAuth(input)).toEqual(expected);
  });
});

describe('sshConnectOptions', () => {
  it('maps the config ssh section to connect options, resolving the known_hosts path', () => {
    expect(sshConnectOptions({ known_hosts: 'kh', trust_on_first_use: true, connect_timeout: 3000, keepalive_interval: 15000 }, (p) => `/base/${p}`)).toEqual({
      knownHostsPath: '/base/kh', trustOnFirstUse: true, connectTimeoutMs: 3000, keepaliveIntervalMs: 15000,
    });
  });
});

describe('Semaphore', () => {
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  it('lets at most N holders in and hands a released slot to the next waiter in order', async () => {
    const slots = new Semaphore(2);
    const order: string[] = [];
    const a = await slots.acquire();
    const b = await slots.acquire();
    const c = slots.acquire().then((release) => { order.push('c'); return release; });
    const d = slots.acquire().then((release) => { order.push('d'); return release; });
    await flush();
    expect(order).toEqual([]);
    a();
    a(); // a second release of the same slot is ignored
    (await c)();
    await flush();
    expect(order).toEqual(['c', 'd']);
    b();
    (await d)();
  });
});
