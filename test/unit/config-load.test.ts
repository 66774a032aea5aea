// Loading a valid config: interpolation, secrets, destinations, the resolved view, redaction.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { redactConfig } from '../../src/config/redact.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { configSchema } from '../../src/config/schema.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function project(base: string, extra: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gangway-config-'));
  dirs.push(dir);
  await mkdir(join(dir, '.gangway'));
  await writeFile(join(dir, 'gangway.yml'), base);
  for (const [name, text] of Object.entries(extra)) await writeFile(join(dir, name), text, { mode: 0o600 });
  return dir;
}

const BASE = `service: hello
image: registry.example.com/acme/hello
registry:
  server: registry.example.com
  username: acme
  password: \${REGISTRY_PASSWORD}
servers:
  web: { hosts: [vm1, vm2] }
  workers: { hosts: [vm3, vm1], cmd: [bin/jobs], env: { clear: { QUEUE: default } } }
hosts:
  vm1: { address: 127.0.0.1, port: 2201 }
ssh: { user: deploy, identity: ~/.ssh/id_ed25519 }
env:
  clear: { MODE: production, DB_HOST: "\${DB_HOST:-db.local}" }
  secret: [DATABASE_URL]
`;

describe('loadConfig', () => {
  it('validates, applies defaults and parses durations', async () => {
    const dir = await project(BASE, { '.gangway/secrets': 'DATABASE_URL=postgres://u:pw@db/app\nREGISTRY_PASSWORD=reg-pass-1\n' });
    const loaded = await loadConfig({ file: 'gangway.yml', cwd: dir, env: {} });
    expect(loaded.file).toBe(join(dir, 'gangway.yml'));
    expect(loaded.files).toEqual([join(dir, 'gangway.yml')]);
    expect(loaded.config.drain_timeout).toBe(30_000);
    expect(loaded.config.proxy.healthcheck).toEqual({ path: '/up', interval: 1000, timeout: 5000, status: 200, host: 'localhost' });
    expect(loaded.config.boot.limit).toEqual({ percent: 100 });
    expect(loaded.config.env.clear).toEqual({ MODE: 'production', DB_HOST: 'db.local' });
    expect(loaded.warnings).toEqual([]);
  });

  it('collects secrets: env.secret names, values from .gangway/secrets, the registry password', async () => {
    const dir = await project(BASE, { '.gangway/secrets': 'DATABASE_URL=postgres://u:pw@db/app\nREGISTRY_PASSWORD=reg-pass-1\n' });
    const loaded = await loadConfig({ file: 'gangway.yml', cwd: dir, env: {} });
    expect(loaded.secrets).toEqual({ DATABASE_URL: 'postgres://u:pw@db/app', REGISTRY_PASSWORD: 'reg-pass-1' });
    expect(loaded.config.registry?.password).toBe('reg-pass-1');
  });

  it('the environment overrides .gangway/secrets', async () => {
    const dir = await project(BASE, { '.gangway/secrets': 'DATABASE_URL=from-file\nREGISTRY_PASSWORD=from-file\n' });
    const loaded = await loadConfig({ file: 'gangway.yml', cwd: dir, env: { REGISTRY_PASSWORD: 'from-env', DATABASE_URL: 'env-db' } });
    expect(loaded.secrets).toEqual({ DATABASE_URL: 'env-db', REGISTRY_PASSWORD: 'from-env' });
  });

  it('a literal registry password is still a secret', async () => {
    const dir = await project(BASE.replace('${REGISTRY_PASSWORD}', 'literal-pw').replace('secret: [DATABASE_URL]', 'secret: []'));
    const loaded = await loadConfig({ file: 'gangway.yml', cwd: dir, env: {} });
    expect(loaded.secrets).toEqual({ 'registry.password': 'literal-pw' });
  });

  it('warns about a hosts entry no role uses, and about a secrets file others can read', async () => {
    const dir = await project(BASE.replace('hosts:\n  vm1:', 'hosts:\n  vm9: {}\n  vm1:'), {
      '.gangway/secrets': 'DATABASE_URL=db-url-x\nREGISTRY_PASSWORD=reg-pass-y\n',
    });
    await chmod(join(dir, '.gangway/secrets'), 0o644);
    const loaded = await loadConfig({ file: 'gangway.yml', cwd: dir, env: {} });
    expect(loaded.warnings).toEqual([
      '.gangway/secrets: warning: readable by other users (mode 644); run chmod 600 .gangway/secrets',
      'gangway.yml:11:3 warning: hosts.vm9: host "vm9" is not used by any role',
    ]);
  });

  it('a destination overlay merges maps and replaces lists before validation', async () => {
    const dir = await project(BASE, {
      '.gangway/secrets': 'DATABASE_URL=db-url-x\nREGISTRY_PASSWORD=reg-pass-y\n',
      'gangway.staging.yml': 'servers:\n  web:\n    hosts: [stage1]\nenv:\n  clear: { MODE: staging }\ndrain_timeout: 5s\n',
    });
    const loaded = await loadConfig({ file: 'gangway.yml', destination: 'staging', cwd: dir, env: {} });
    expect(loaded.files).toEqual([join(dir, 'gangway.yml'), join(dir, 'gangway.staging.yml')]);
    expect(loaded.destination).toBe('staging');
    expect(loaded.config.servers.web?.hosts).toEqual(['stage1']);
    expect(loaded.config.servers.workers?.cmd).toEqual(['bin/jobs']);
    expect(loaded.config.env.clear).toEqual({ MODE: 'staging', DB_HOST: 'db.local' });
    expect(loaded.config.drain_timeout).toBe(5000);
  });

  it('an empty overlay changes nothing', async () => {
    const dir = await project(BASE, { '.gangway/secrets': 'DATABASE_URL=db-url-x\nREGISTRY_PASSWORD=reg-pass-y\n', 'gangway.ci.yml': '# nothing yet\n' });
    const loaded = await loadConfig({ file: 'gangway.yml', destination: 'ci', cwd: dir, env: {} });
    expect(loaded.config.servers.web?.hosts).toEqual(['vm1', 'vm2']);
  });

  it('a config outside cwd is named by its absolute path', async () => {
    const dir = await project('service: x\nimage: i\n');
    const err = (await loadConfig({ file: join(dir, 'gangway.yml'), cwd: join(tmpdir(), 'elsewhere'), env: {} }).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(`${join(dir, 'gangway.yml')}:1:1 servers: missing required key \`servers\``);
  });

  it('resolves roles and host targets', async () => {
    const dir = await project(BASE, { '.gangway/secrets': 'DATABASE_URL=db-url-x\nREGISTRY_PASSWORD=reg-pass-y\n' });
    const loaded = await loadConfig({ file: 'gangway.yml', cwd: dir, env: {} });
    expect(loaded.roles.map((r) => r.name)).toEqual(['web', 'workers']);
    expect(loaded.hostTargets.map((h) => h.name)).toEqual(['vm1', 'vm2', 'vm3']);
  });
});

const parse = (input: unknown) => configSchema.parse(input);

describe('resolveConfig', () => {
  const config = parse({
    service: 'hello',
    image: 'hello',
    servers: {
      workers: { hosts: ['vm3', 'localhost'], cmd: ['jobs'], env: { clear: { MODE: 'jobs', QUEUE: 'q' } } },
      web: { hosts: ['vm1', 'vm2', 'vm3'] },
      admin: { hosts: ['vm2'], proxy: true },
    },
    primary_role: 'web',
    hosts: { vm1: { address: '10.0.0.1', port: 2201, user: 'ops', identity: 'keys/vm1' } },
    ssh: { user: 'deploy', port: 2222, identity: '~/.ssh/id' },
    env: { clear: { MODE: 'production' } },
  });
  const { roles, hostTargets } = resolveConfig(config, '/srv/app', '/home/me');

  it('puts the primary role first, then the others in file order', () => {
    expect(roles.map((r) => [r.name, r.primary, r.proxied])).toEqual([
      ['web', true, true],
      ['workers', false, false],
      ['admin', false, true],
    ]);
  });

  it('merges the role env over the global env', () => {
    expect(roles.find((r) => r.name === 'workers')?.env).toEqual({ MODE: 'jobs', QUEUE: 'q' });
    expect(roles[0]!.env).toEqual({ MODE: 'production' });
    expect(roles.find((r) => r.name === 'workers')?.cmd).toEqual(['jobs']);
    expect(roles[0]!.cmd).toBeUndefined();
  });

  it('lists every distinct host once, in roles order, with its connection details', () => {
    expect(hostTargets).toEqual([
      { name: 'vm1', address: '10.0.0.1', port: 2201, user: 'ops', identityFile: '/srv/app/keys/vm1', local: false },
      { name: 'vm2', address: 'vm2', port: 2222, user: 'deploy', identityFile: '/home/me/.ssh/id', local: false },
      { name: 'vm3', address: 'vm3', port: 2222, user: 'deploy', identityFile: '/home/me/.ssh/id', local: false },
      { name: 'localhost', address: 'localhost', port: 2222, user: 'deploy', identityFile: '/home/me/.ssh/id', local: true },
    ]);
  });

  it('without primary_role the first role is primary', () => {
    const r = resolveConfig(parse({ service: 's', image: 'i', servers: { a: { hosts: ['h1'] }, b: { hosts: ['h2'] } } }), '/x');
    expect(r.roles.map((x) => [x.name, x.primary])).toEqual([['a', true], ['b', false]]);
    expect(r.hostTargets[0]).not.toHaveProperty('identityFile');
  });
});

describe('redactConfig', () => {
  it('hides the registry password and every string that contains a secret', () => {
    const config = parse({
      service: 'hello',
      image: 'hello',
      registry: { server: 'r', password: 'pw-123456' },
      servers: { web: { hosts: ['vm1'] } },
      env: { clear: { URL: 'postgres://u:hunter2pass@db/app', MODE: 'production' }, secret: ['DATABASE_URL'] },
    });
    const redacted = redactConfig({ config, secrets: { 'registry.password': 'pw-123456', DATABASE_URL: 'hunter2pass' } });
    expect(redacted.registry?.password).toBe('[redacted]');
    expect(redacted.env.clear).toEqual({ URL: '[redacted]', MODE: 'production' });
    expect(redacted.env.secret).toEqual(['DATABASE_URL']);
    expect(config.registry?.password).toBe('pw-123456');
  });
});
