// The ssh config file as gangway reads it, and how a host's connection settings are resolved
// from gangway.yml, that file and the defaults, each with its source.
import { describe, expect, it } from 'vitest';
import { describeSource, parseProxySpec, resolveConnection, type ConnectionContext } from '../../src/config/connection.js';
import { connectionComments, connectionView } from '../../src/config/connection-view.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { parseSshConfig, sshConfigFor } from '../../src/config/ssh-config.js';
import { GangwayError } from '../../src/errors.js';

const SSH_CONFIG = `# my hosts
Host web1 web2
  HostName 10.0.0.5
  Port=2222

  IdentityFile ~/.ssh/web_key
Host web?
  User webops
  IdentityFile keys/second
Host *.internal !db.internal
  ProxyJump jump@bastion.example:2200
Host bastion.example
  HostName 203.0.113.7
  User ignored-for-spec
  IdentityFile /keys/bastion
Match host x exec "rm -rf /"
  Port 1
Host *
  User everyone
  ServerAliveInterval 30
  IdentitiesOnly yes
`;
const FILE = '/home/me/.ssh/config';
const parsed = parseSshConfig(SSH_CONFIG, FILE);

function config(input: Record<string, unknown>): Config {
  return configSchema.parse({ service: 's', image: 'i', servers: { web: { hosts: ['web1'] } }, ...input });
}

const ctx = (over: Partial<ConnectionContext> = {}): ConnectionContext => ({ sshConfig: parsed, explicitSsh: new Set(), localUser: 'me', ...over });
const resolveFor = (cfg: Config, name: string, c: ConnectionContext = ctx()) => resolveConnection(cfg, name, c, (p) => (p.startsWith('/') ? p : `/srv/app/${p}`), '/home/me');

describe('parseSshConfig / sshConfigFor', () => {
  it('keeps the line of every directive', () => {
    const v = sshConfigFor(parsed, 'web1');
    expect(v.hostname).toEqual([{ value: '10.0.0.5', file: FILE, line: 3 }]);
    expect(v.port).toEqual([{ value: '2222', file: FILE, line: 4 }]);
    expect(v.identityfile?.map((x) => x.line)).toEqual([6, 9]);
    expect(v.user?.[0]?.line).toBe(8);
    expect(v.serveraliveinterval?.[0]?.line).toBe(20);
  });

  it('first value obtained wins; IdentityFile accumulates', () => {
    const v = sshConfigFor(parsed, 'web2');
    expect(v.user?.map((x) => x.value)).toEqual(['webops']);
    expect(v.identityfile?.map((x) => x.value)).toEqual(['~/.ssh/web_key', 'keys/second']);
  });

  it('? matches exactly one character, patterns ignore case, a negation rules a block out', () => {
    expect(sshConfigFor(parsed, 'web10').user?.[0]?.value).toBe('everyone');
    expect(sshConfigFor(parsed, 'WEB3').user?.[0]?.value).toBe('webops');
    expect(sshConfigFor(parsed, 'app.internal').proxyjump?.[0]?.value).toBe('jump@bastion.example:2200');
    expect(sshConfigFor(parsed, 'db.internal').proxyjump).toBeUndefined();
  });

  it('never applies a Match block, and says so', () => {
    expect(sshConfigFor(parsed, 'x').port).toBeUndefined();
    expect(parsed.unsupported).toEqual([{ directive: 'Match', line: 16 }]);
  });
});

describe('resolveConnection', () => {
  it('a host named only in the ssh config gets its HostName, Port, User and keys, each with its line', () => {
    const c = resolveFor(config({}), 'web1');
    expect(c.target).toEqual({
      name: 'web1', address: '10.0.0.5', port: 2222, user: 'webops',
      identityFile: '/home/me/.ssh/web_key', identityFiles: ['/home/me/.ssh/web_key', '/home/me/.ssh/keys/second'],
      identitiesOnly: true, keepaliveIntervalMs: 30_000, local: false,
    });
    expect(describeSource(c.sources.address)).toBe(`${FILE}:3 (HostName)`);
    expect(describeSource(c.sources.user)).toBe(`${FILE}:8 (User)`);
    expect(describeSource(c.sources.proxy)).toBe('default');
  });

  it('gangway.yml wins: hosts.<name>.* first, then ssh.* keys the file sets', () => {
    const cfg = config({ hosts: { web1: { port: 2201 } }, ssh: { user: 'deploy', identity: 'k', keepalive_interval: '5s' } });
    const where = (path: string[]) => ({ file: 'gangway.yml', line: path.length * 10 });
    const c = resolveFor(cfg, 'web1', ctx({ explicitSsh: new Set(['user', 'identity', 'keepalive_interval']), where }));
    expect(c.target).toMatchObject({ address: '10.0.0.5', port: 2201, user: 'deploy', identityFile: '/srv/app/k' });
    expect(c.target.keepaliveIntervalMs).toBeUndefined();
    expect(c.target.identityFiles).toBeUndefined();
    expect(describeSource(c.sources.port)).toBe('hosts.web1.port (gangway.yml:30)');
    expect(describeSource(c.sources.user)).toBe('ssh.user (gangway.yml:20)');
    expect(describeSource(c.sources.keepalive_interval)).toBe('ssh.keepalive_interval (gangway.yml:20)');
  });

  it('the ssh config beats gangway defaults, which apply where neither says anything', () => {
    const c = resolveFor(config({}), 'other', ctx({ sshConfig: parseSshConfig('Host web1\n  Port 2\n', FILE) }));
    expect(c.target).toEqual({ name: 'other', address: 'other', port: 22, user: 'root', local: false });
    expect(Object.values(c.sources).every((s) => s.from === 'default')).toBe(true);
  });

  it('without a context every ssh.* value counts as set (no ssh config)', () => {
    const c = resolveConnection(config({ ssh: { user: 'u' } }), 'web1', {}, (p) => p, '/h');
    expect(c.target).toEqual({ name: 'web1', address: 'web1', port: 22, user: 'u', local: false });
  });

  it('a ProxyJump names the bastion, resolved through the same file; the spec\'s user and port win', () => {
    const c = resolveFor(config({}), 'app.internal');
    expect(c.target.jump).toEqual({ name: 'bastion.example', address: '203.0.113.7', port: 2200, user: 'jump', identityFile: '/keys/bastion', identitiesOnly: true, keepaliveIntervalMs: 30_000 });
    expect(describeSource(c.sources.proxy)).toBe(`${FILE}:11 (ProxyJump)`);
    expect(describeSource(c.bastion?.sources.address)).toBe(`${FILE}:13 (HostName)`);
  });

  it('ssh.proxy sets a bastion for every host; false (or hosts.<name>.proxy: none) turns a ProxyJump off', () => {
    const on = resolveFor(config({ ssh: { proxy: 'root@127.0.0.1:2201' } }), 'web1', ctx({ explicitSsh: new Set(['proxy']) }));
    expect(on.target.jump).toMatchObject({ name: '127.0.0.1', address: '127.0.0.1', port: 2201, user: 'root' });
    expect(resolveFor(config({ ssh: { proxy: false } }), 'app.internal', ctx({ explicitSsh: new Set(['proxy']) })).target.jump).toBeUndefined();
    expect(resolveFor(config({ hosts: { 'app.internal': { proxy: 'none' } } }), 'app.internal').target.jump).toBeUndefined();
  });

  it('refuses a chain of bastions and a bad Port, naming file and line', () => {
    const chain = parseSshConfig('Host a\n  ProxyJump b,c\n', FILE);
    expect(() => resolveFor(config({}), 'a', ctx({ sshConfig: chain }))).toThrow(/config:2 \(ProxyJump\): proxy "b,c" for a is a chain of bastions/);
    const badPort = parseSshConfig('Host a\n  Port http\n', FILE);
    const err = (() => { try { resolveFor(config({}), 'a', ctx({ sshConfig: badPort })); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(GangwayError);
    expect((err as GangwayError).code).toBe('config');
    expect((err as GangwayError).message).toBe(`${FILE}:2: Port "http": expected a port number from 1 to 65535`);
  });

  it('expands %h in HostName and ~, %d, %r, %h in IdentityFile', () => {
    const c = resolveFor(config({}), 'box', ctx({ sshConfig: parseSshConfig('Host box\n  HostName %h.lan\n  User ann\n  IdentityFile %d/k/%r-%h\n', FILE) }));
    expect(c.target).toMatchObject({ address: 'box.lan', identityFile: '/home/me/k/ann-box.lan' });
  });

  it('localhost stays the local engine whatever the ssh config says', () => {
    expect(resolveFor(config({}), 'localhost').target).toMatchObject({ local: true, address: 'localhost' });
  });
});

describe('parseProxySpec', () => {
  it.each([
    ['root@b:2201', { user: 'root', host: 'b', port: 2201 }],
    ['b', { host: 'b' }],
    ['none', undefined],
    ['a@b@c', 'invalid'],
    ['b:70000', 'invalid'],
  ])('%s', (spec, expected) => expect(parseProxySpec(spec)).toEqual(expected));
});

describe('connection view', () => {
  it('shows each setting with its source, the bastion\'s too, as YAML comments', () => {
    const view = connectionView(resolveFor(config({}), 'app.internal'), 15_000);
    const lines = connectionComments([view]);
    expect(lines).toContain(`#   proxy = jump@203.0.113.7:2200  <- ${FILE}:11 (ProxyJump)`);
    expect(lines).toContain(`#     address = 203.0.113.7  <- ${FILE}:13 (HostName)`);
    expect(lines).toContain(`#   keepalive_interval = 30s  <- ${FILE}:20 (ServerAliveInterval)`);
    expect(lines.every((l) => l.startsWith('#'))).toBe(true);
  });
});
