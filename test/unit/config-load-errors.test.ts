// Every config problem names file:line:col, the key path and what was expected.
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GangwayError } from '../../src/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { httpsPortOf, LETS_ENCRYPT_DIRECTORY } from '../../src/config/schema.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

interface Files {
  base: string;
  overlays?: Record<string, string>;
  secrets?: string;
}

async function project(files: Files): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gangway-config-'));
  dirs.push(dir);
  await writeFile(join(dir, 'gangway.yml'), files.base);
  for (const [dest, text] of Object.entries(files.overlays ?? {})) await writeFile(join(dir, `gangway.${dest}.yml`), text);
  if (files.secrets !== undefined) {
    await mkdir(join(dir, '.gangway'));
    await writeFile(join(dir, '.gangway', 'secrets'), files.secrets, { mode: 0o600 });
  }
  return dir;
}

/** Loads and returns the config error it must throw. */
async function failure(files: Files, opts: { destination?: string; env?: NodeJS.ProcessEnv } = {}): Promise<GangwayError> {
  const dir = await project(files);
  try {
    await loadConfig({ file: 'gangway.yml', cwd: dir, env: opts.env ?? {}, ...(opts.destination ? { destination: opts.destination } : {}) });
  } catch (err) {
    expect(err).toBeInstanceOf(GangwayError);
    expect((err as GangwayError).code).toBe('config');
    return err as GangwayError;
  }
  throw new Error('expected a config error');
}

const valid = (rest = '') => `service: hello
image: hello
servers:
  web:
    hosts: [vm1, vm2]
${rest}`;

describe('config errors name file:line:col, key path and expectation', () => {
  it('bad YAML syntax: the parser position', async () => {
    const err = await failure({ base: 'service: hello\nservers:\n  web: [vm1\n  other: x\n' });
    expect(err.details[0]).toMatch(/^gangway\.yml:4:3 invalid YAML: /);
  });

  it('wrong type', async () => {
    const err = await failure({ base: valid('retain: many\n') });
    expect(err.message).toBe('gangway.yml:6:9 retain: expected a number, got "many"');
  });

  it('unknown top-level key, with the closest known key', async () => {
    const err = await failure({ base: valid('drian_timeout: 30s\n') });
    expect(err.message).toBe('gangway.yml:6:1 drian_timeout: unknown key `drian_timeout` — did you mean `drain_timeout`?');
  });

  it('unknown nested key, with the closest known key', async () => {
    const err = await failure({ base: valid('proxy:\n  healthcheck:\n    intervall: 2s\n') });
    expect(err.message).toBe('gangway.yml:8:5 proxy.healthcheck.intervall: unknown key `intervall` — did you mean `interval`?');
  });

  it('bad duration', async () => {
    const err = await failure({ base: valid('drain_timeout: 30 seconds\n') });
    expect(err.message).toBe('gangway.yml:6:16 drain_timeout: expected a duration such as 500ms, 30s, 2m or 1h, got "30 seconds"');
  });

  it('bad percentage', async () => {
    const err = await failure({ base: valid('boot: { limit: 150% }\n') });
    expect(err.message).toBe('gangway.yml:6:16 boot.limit: expected a percentage such as 25% or a host count such as 2, got "150%"');
  });

  it('secret named in env.secret but set nowhere', async () => {
    const err = await failure({ base: valid('env:\n  secret: [API_KEY, DATABASE_URL]\n'), secrets: 'API_KEY=abcdef\n' });
    expect(err.message).toBe('gangway.yml:7:21 env.secret[1]: secret DATABASE_URL is not set in the environment or .gangway/secrets');
  });

  it('${VAR} set nowhere: names VAR where it is referenced', async () => {
    const err = await failure({ base: valid('registry:\n  server: r.example.com\n  password: "pw-${REGISTRY_PASSWORD}"\n') });
    expect(err.message).toBe(
      'gangway.yml:8:17 registry.password: ${REGISTRY_PASSWORD}: REGISTRY_PASSWORD is not set in the environment or .gangway/secrets',
    );
  });

  it('empty servers', async () => {
    const err = await failure({ base: 'service: hello\nimage: hello\nservers: {}\n' });
    expect(err.message).toBe('gangway.yml:3:10 servers: servers needs at least one role');
  });

  it('a role with no hosts', async () => {
    const err = await failure({ base: valid('  jobs:\n    hosts: []\n') });
    expect(err.message).toBe('gangway.yml:7:12 servers.jobs.hosts: a role needs at least one host');
  });

  it('a role without a hosts key', async () => {
    const err = await failure({ base: valid('  jobs:\n    cmd: [run]\n') });
    expect(err.message).toBe('gangway.yml:6:3 servers.jobs.hosts: missing required key `hosts`');
  });

  it('malformed host name in a role', async () => {
    const err = await failure({ base: 'service: hello\nimage: hello\nservers:\n  web:\n    hosts: [vm1, "vm 2"]\n' });
    expect(err.message).toBe('gangway.yml:5:18 servers.web.hosts[1]: expected a host name or address, got "vm 2"');
  });

  it('a user in a host name gets a hint', async () => {
    const err = await failure({ base: 'service: hello\nimage: hello\nservers:\n  web:\n    hosts:\n      - root@vm1\n' });
    expect(err.message).toBe(
      'gangway.yml:6:9 servers.web.hosts[0]: expected a host name or address, got "root@vm1" (put the user in ssh.user or hosts.<name>.user)',
    );
  });

  it('primary_role that is not a role', async () => {
    const err = await failure({ base: valid('primary_role: api\n') });
    expect(err.message).toBe('gangway.yml:6:15 primary_role: expected one of the roles web, got "api"');
  });

  it('a bad value in a destination overlay names the overlay file and line', async () => {
    const err = await failure({ base: valid(), overlays: { staging: 'servers:\n  web:\n    hosts: [stage1, "stage 2"]\n' } }, { destination: 'staging' });
    expect(err.message).toBe('gangway.staging.yml:3:21 servers.web.hosts[1]: expected a host name or address, got "stage 2"');
  });

  it('an unknown key in a destination overlay', async () => {
    const err = await failure({ base: valid(), overlays: { staging: 'proxy:\n  app_prot: 8080\n' } }, { destination: 'staging' });
    expect(err.message).toBe('gangway.staging.yml:2:3 proxy.app_prot: unknown key `app_prot` — did you mean `app_port`?');
  });

  it('a missing destination file is named', async () => {
    const err = await failure({ base: valid() }, { destination: 'prod' });
    expect(err.message).toBe('gangway.prod.yml: destination file for -d prod not found');
  });

  it('bad YAML in an overlay points into the overlay', async () => {
    const err = await failure({ base: valid(), overlays: { staging: 'retain: 3\nretain: 4\n' } }, { destination: 'staging' });
    expect(err.message).toMatch(/^gangway\.staging\.yml:2:1 invalid YAML: map keys must be unique/);
  });

  it('a missing required key points at its parent', async () => {
    const err = await failure({ base: 'image: hello\nservers:\n  web: { hosts: [vm1] }\n' });
    expect(err.message).toBe('gangway.yml:1:1 service: missing required key `service`');
  });

  it('an empty file', async () => {
    const err = await failure({ base: '' });
    expect(err.message).toBe('gangway.yml:1:1 expected a mapping, got nothing');
  });

  it('a missing config file suggests gangway init', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gangway-config-'));
    dirs.push(dir);
    const err = (await loadConfig({ file: 'gangway.yml', cwd: dir, env: {} }).catch((e: unknown) => e)) as GangwayError;
    expect(err.message).toBe('gangway.yml: config file not found');
    expect(err.hint).toContain('gangway init');
  });

  it('an unquoted ${VAR} in a flow mapping hints at quoting', async () => {
    const err = await failure({ base: valid('registry: { server: r, password: ${PW} }\n') });
    expect(err.details[0]).toMatch(/^gangway\.yml:6:\d+ invalid YAML/);
    expect(err.hint).toContain('must be quoted');
  });

  it('collects every problem of a file: the message counts them, details list them in file order', async () => {
    const err = await failure({
      base: 'service: hello\nimage: hello\nservers:\n  web:\n    hosts: ["a b"]\ndrain_timeout: x\nretian: 3\n',
    });
    expect(err.message).toBe('3 problems in gangway.yml');
    expect(err.details).toEqual([
      'gangway.yml:5:13 servers.web.hosts[0]: expected a host name or address, got "a b"',
      'gangway.yml:6:16 drain_timeout: expected a duration such as 500ms, 30s, 2m or 1h, got "x"',
      'gangway.yml:7:1 retian: unknown key `retian` — did you mean `retain`?',
    ]);
  });

  it('problems in base and overlay are reported together', async () => {
    const err = await failure({ base: valid('retain: -1\n'), overlays: { staging: 'drain_timeout: 1 min\n' } }, { destination: 'staging' });
    expect(err.details).toEqual([
      'gangway.yml:6:9 retain: expected at least 0, got -1',
      'gangway.staging.yml:1:16 drain_timeout: expected a duration such as 500ms, 30s, 2m or 1h, got "1 min"',
    ]);
  });

  it('a host listed twice in a role', async () => {
    const err = await failure({ base: 'service: hello\nimage: hello\nservers:\n  web: { hosts: [vm1, vm1] }\n' });
    expect(err.message).toBe('gangway.yml:4:23 servers.web.hosts[1]: host "vm1" is listed twice in this role');
  });

  it('an invalid key of a mapping points at the key', async () => {
    const err = await failure({ base: valid('hosts:\n  "vm 1": { port: 22 }\n') });
    expect(err.message).toBe('gangway.yml:7:3 hosts["vm 1"]: expected a host name or address, got "vm 1"');
  });

  describe('proxy.path_prefix needs proxy.hosts', () => {
    const HINT = 'a path prefix routes within the names of proxy.hosts; add proxy.hosts or remove path_prefix';
    const MESSAGE = 'proxy.path_prefix: set without proxy.hosts: this service is the catch-all, which answers every path, so the prefix would be ignored';

    it('a prefix without proxy.hosts names the file, the line of the key and hints at the fix', async () => {
      const err = await failure({ base: valid('proxy:\n  app_port: 8080\n  path_prefix: /api\n') });
      expect(err.message).toBe(`gangway.yml:8:3 ${MESSAGE}`);
      expect(err.details).toEqual([err.message]);
      expect(err.hint).toBe(HINT);
    });

    it('an empty proxy.hosts counts as none (reported beside the schema problem)', async () => {
      const err = await failure({ base: valid('proxy:\n  hosts: []\n  path_prefix: /api\n') });
      expect(err.details).toContain(`gangway.yml:8:3 ${MESSAGE}`);
      expect(err.details.some((l) => l.startsWith('gangway.yml:7:10 proxy.hosts: list at least one host name'))).toBe(true);
      expect(err.hint).toBe(HINT);
    });

    it('a prefix set in a destination overlay names the overlay and its line', async () => {
      const err = await failure({ base: valid(), overlays: { staging: 'retain: 2\nproxy:\n  path_prefix: /v1/admin\n' } }, { destination: 'staging' });
      expect(err.message).toBe(`gangway.staging.yml:3:3 ${MESSAGE}`);
      expect(err.hint).toBe(HINT);
    });

    it('with proxy.hosts (from the base or the overlay) the prefix is accepted', async () => {
      for (const files of [
        { base: valid('proxy:\n  hosts: [app.example.com]\n  path_prefix: /api\n') },
        { base: valid('proxy:\n  path_prefix: /api\n'), overlays: { staging: 'proxy:\n  hosts: [staging.example.com]\n' } },
      ]) {
        const dir = await project(files);
        const loaded = await loadConfig({ file: 'gangway.yml', cwd: dir, env: {}, ...(files.overlays ? { destination: 'staging' } : {}) });
        expect(loaded.config.proxy.path_prefix).toBe('/api');
        expect(loaded.config.proxy.hosts?.length).toBe(1);
      }
    });
  });

  describe('proxy.ssl', () => {
    const CERT = `-----BEGIN CERTIFICATE-----\n${'A'.repeat(64)}\n-----END CERTIFICATE-----`;
    const KEY = `-----BEGIN PRIVATE KEY-----\n${'B'.repeat(64)}\n-----END PRIVATE KEY-----`;

    it('on without proxy.hosts names the file, the line of the key and hints at the fix', async () => {
      const err = await failure({ base: valid('proxy:\n  app_port: 8080\n  ssl: true\n') });
      expect(err.message).toBe('gangway.yml:8:3 proxy.ssl: set without proxy.hosts: this service is the catch-all, which has no names to hold certificates for');
      expect(err.hint).toMatch(/list the names in proxy.hosts/);
    });

    it('an own certificate naming an unset secret names the secret and its line', async () => {
      const err = await failure({ base: valid('proxy:\n  hosts: [a.example.com]\n  ssl:\n    certificate_pem: WEB_CERT\n    private_key_pem: WEB_KEY\n'), secrets: 'WEB_CERT=long-enough-value\n' }, { env: {} });
      expect(err.details).toContain('gangway.yml:10:22 proxy.ssl.private_key_pem: secret WEB_KEY is not set in the environment or .gangway/secrets');
      expect(err.details.some((l) => l.includes('WEB_CERT') && l.includes('not set'))).toBe(false);
    });

    it('ACME on a service proxied on two hosts: exit 2 naming the hosts, with the own-certificate hint', async () => {
      const err = await failure({ base: valid('proxy:\n  hosts: [a.example.com]\n  ssl: true\n') });
      expect(err.message).toMatch(/^gangway.yml:8:8 proxy.ssl: ACME certificates \(ssl: true\) need the service's names on one host, but it is proxied on 2 \(vm1, vm2\)/);
      expect(err.hint).toMatch(/certificate_pem/);
    });

    it('ACME on one proxied host is fine, whatever unproxied roles run; defaults of proxy.acme', async () => {
      const base = `service: hello\nimage: hello\nservers:\n  web:\n    hosts: [vm1]\n  jobs:\n    hosts: [vm2, vm3]\nproxy:\n  hosts: [a.example.com]\n  ssl: true\n  acme: {}\n`;
      const on = await loadConfig({ file: 'gangway.yml', cwd: await project({ base }), env: {} });
      expect(on.config.proxy.acme).toMatchObject({ image: 'gangway/acme', renew_days: 30 });
      const both = base.replace('hosts: [vm2, vm3]', 'hosts: [vm2, vm3]\n    proxy: true');
      const err = await failure({ base: both });
      expect(err.message).toMatch(/proxied on 3 \(vm1, vm2, vm3\)/);
    });

    it('a wrong shape says what is expected', async () => {
      const err = await failure({ base: valid('proxy:\n  hosts: [a.example.com]\n  ssl: yes please\n') });
      expect(err.message).toMatch(/^gangway.yml:8:8 proxy.ssl: expected true, false, or \{ certificate_pem: SECRET, private_key_pem: SECRET \}/);
    });

    it('defaults: off, redirect on, no https port; on: 443, Let\'s Encrypt; the PEMs are secrets (redacted)', async () => {
      const off = await loadConfig({ file: 'gangway.yml', cwd: await project({ base: valid() }), env: {} });
      expect(off.config.proxy.ssl).toBe(false);
      expect(off.config.proxy.ssl_redirect).toBe(true);
      expect(httpsPortOf(off.config.proxy)).toBeUndefined();
      const dir = await project({ base: valid('proxy:\n  hosts: [a.example.com]\n  ssl: { certificate_pem: WEB_CERT, private_key_pem: WEB_KEY }\n  acme: {}\n') });
      const added: string[] = [];
      const on = await loadConfig({ file: 'gangway.yml', cwd: dir, env: { WEB_CERT: CERT, WEB_KEY: KEY }, redactor: { addSecret: (v) => added.push(v) } });
      expect(on.config.proxy.ssl).toEqual({ certificate_pem: 'WEB_CERT', private_key_pem: 'WEB_KEY' });
      expect(httpsPortOf(on.config.proxy)).toBe(443);
      expect(on.config.proxy.acme?.directory).toBe(LETS_ENCRYPT_DIRECTORY);
      expect(on.secrets.WEB_KEY).toBe(KEY);
      expect(added).toContain(KEY);
    });
  });

  it('a port out of range', async () => {
    const err = await failure({ base: valid('ssh:\n  port: 70000\n') });
    expect(err.message).toBe('gangway.yml:7:9 ssh.port: expected at most 65535, got 70000');
  });
});
