// A config problem never shows a secret's value: every bad-input path that quotes a value is
// tried with a secret in it, from .gangway/secrets, from an env.secret variable of the
// environment, and as the registry password. And the redactor hears of every secret before the
// config is judged, so whatever the load throws is printed redacted.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { makeLookup, type UsedVar } from '../../src/config/interpolate.js';
import { MIN_SECRET_LENGTH } from '../../src/events/events.js';
import { indexSecrets, shortSecretProblems, valueTeller } from '../../src/config/secret-values.js';
import { GangwayError } from '../../src/errors.js';
import { Events, type GangwayEvent } from '../../src/events/events.js';
import { reportError } from '../../src/cli/context.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** From .gangway/secrets. */
const FILE_SECRET = 'Tok3n from the secrets file';
/** From the environment, named in env.secret. */
const ENV_SECRET = 'env:Secret-Value-99';
/** Longer than the 60 characters a "got" shows before cutting: no prefix of it may show either. */
const LONG_SECRET = `long-${'x1y2z3'.repeat(12)}-end`;

interface Case {
  name: string;
  /** Config text after the valid head. */
  rest: string;
  /** What the one message must be (file:line:col key: ...). */
  message: string;
  secrets?: string;
  env?: NodeJS.ProcessEnv;
  overlay?: string;
}

const head = 'service: hello\nimage: hello\nservers:\n  web:\n    hosts: [vm1]\n';

const cases: Case[] = [
  {
    name: 'wrong type (a number expected)',
    rest: 'hosts:\n  vm1: { port: "${TOKEN}" }\n',
    message: 'gangway.yml:7:16 hosts.vm1.port: expected a number, got a string from secret TOKEN',
  },
  {
    name: 'wrong type, a whole number expected (retain)',
    rest: 'retain: "${TOKEN}"\n',
    message: 'gangway.yml:6:9 retain: expected a number, got a string from secret TOKEN',
  },
  {
    name: 'duration that does not parse',
    rest: 'drain_timeout: "${TOKEN}"\n',
    message: 'gangway.yml:6:16 drain_timeout: expected a duration such as 500ms, 30s, 2m or 1h, got a string from secret TOKEN',
  },
  {
    name: 'enum (a verify check\'s proto)',
    rest: 'verify:\n  roles:\n    web:\n      - port: 80\n        proto: "${TOKEN}"\n',
    message: 'gangway.yml:10:16 verify.roles.web[0].proto: expected one of "tcp", "udp", got a string from secret TOKEN',
  },
  {
    name: 'union (boot.limit)',
    rest: 'boot: { limit: "${TOKEN}" }\n',
    message: 'gangway.yml:6:16 boot.limit: expected a percentage such as 25% or a host count such as 2, got a string from secret TOKEN',
  },
  {
    name: 'union (an accessory port)',
    rest: 'accessories:\n  db: { image: postgres, host: vm1, port: "${TOKEN}" }\n',
    message: 'gangway.yml:7:43 accessories.db.port: expected a port number (published on 127.0.0.1) or "[address:]hostPort:containerPort" such as "127.0.0.1:5432:5432", got a string from secret TOKEN',
  },
  {
    name: 'pattern (a host name; a secret with "@" gets no hint that would describe it)',
    rest: '',
    secrets: 'TOKEN=root@secret-host\n',
    message: 'gangway.yml:5:18 servers.web.hosts[1]: expected a host name or address, got a string from secret TOKEN',
  },
  {
    name: 'a secret inside a longer value (a path that must start with /)',
    rest: 'proxy:\n  healthcheck: { path: "up-${TOKEN}" }\n',
    message: 'gangway.yml:7:24 proxy.healthcheck.path: expected a path starting with /, got a string from secret TOKEN',
  },
  {
    name: 'unknown key: named, its value never shown',
    rest: 'hosts:\n  vm1: { prot: "${TOKEN}" }\n',
    message: 'gangway.yml:7:10 hosts.vm1.prot: unknown key `prot` — did you mean `port`?',
  },
  {
    name: 'primary_role that is not a role',
    rest: 'primary_role: "${TOKEN}"\n',
    secrets: 'TOKEN=api-role-secret\n',
    message: 'gangway.yml:6:15 primary_role: expected one of the roles web, got a string from secret TOKEN',
  },
  {
    name: 'a host listed twice',
    rest: '',
    secrets: 'TOKEN=vm-from-secret\n',
    message: 'gangway.yml:5:29 servers.web.hosts[1]: host a string from secret TOKEN is listed twice in this role',
  },
  {
    name: 'an env.secret variable of the environment, interpolated into a key of the wrong type',
    rest: 'env:\n  secret: [API_KEY]\nproxy: { bind: "${API_KEY}" }\n',
    env: { API_KEY: ENV_SECRET },
    message: 'gangway.yml:8:16 proxy.bind: expected an IPv4 address such as 127.0.0.1, or "" for every interface, got a string from secret API_KEY',
  },
  {
    name: 'the registry password written in clear, of the wrong type',
    rest: 'registry: { server: r.example.com, password: 123456789 }\n',
    message: 'gangway.yml:6:46 registry.password: expected a string, got a number from secret registry.password',
  },
  {
    name: 'a secret longer than what "got" shows',
    rest: 'deploy_timeout: "${TOKEN}"\n',
    secrets: `TOKEN=${LONG_SECRET}\n`,
    message: 'gangway.yml:6:17 deploy_timeout: expected a duration such as 500ms, 30s, 2m or 1h, got a string from secret TOKEN',
  },
  {
    name: 'a secret in a destination overlay',
    rest: '',
    overlay: 'ssh: { port: "${TOKEN}" }\n',
    message: 'gangway.staging.yml:1:14 ssh.port: expected a number, got a string from secret TOKEN',
  },
];

async function project(c: Pick<Case, 'rest' | 'secrets' | 'overlay' | 'name'>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gangway-secret-errors-'));
  dirs.push(dir);
  // The host-listed-twice and host-pattern cases put the secret in the role's host list.
  const hosts = c.name.startsWith('a host listed twice') ? '[vm-from-secret, "${TOKEN}"]' : c.name.startsWith('pattern') ? '[vm1, "${TOKEN}"]' : '[vm1]';
  await writeFile(join(dir, 'gangway.yml'), `${head.replace('[vm1]', hosts)}${c.rest}`);
  if (c.overlay) await writeFile(join(dir, 'gangway.staging.yml'), c.overlay);
  await mkdir(join(dir, '.gangway'));
  await writeFile(join(dir, '.gangway', 'secrets'), c.secrets ?? `TOKEN=${FILE_SECRET}\n`, { mode: 0o600 });
  return dir;
}

const secretOf = (c: Case) => (c.env?.API_KEY ? ENV_SECRET : c.secrets?.includes(LONG_SECRET) ? LONG_SECRET : c.secrets ? c.secrets.slice('TOKEN='.length).trim() : c.rest.includes('123456789') ? '123456789' : FILE_SECRET);

async function loadFailure(c: Case, redactor?: { addSecret(v: string): void }): Promise<GangwayError> {
  const dir = await project(c);
  try {
    await loadConfig({ file: 'gangway.yml', cwd: dir, env: c.env ?? {}, ...(c.overlay ? { destination: 'staging' } : {}), ...(redactor ? { redactor } : {}) });
  } catch (err) {
    expect(err).toBeInstanceOf(GangwayError);
    return err as GangwayError;
  }
  throw new Error('expected a config error');
}

/** Every text a thrown config error carries. */
const textOf = (err: GangwayError) => [err.message, ...err.details, err.hint ?? ''].join('\n');

describe('config errors never show a secret value', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const err = await loadFailure(c);
    expect(err.code).toBe('config');
    expect(err.message).toBe(c.message);
    const secret = secretOf(c);
    expect(textOf(err)).not.toContain(secret);
    // Not even the start of it, which a shortened "got" would have shown.
    expect(textOf(err)).not.toContain(secret.slice(0, 12));
  });

  it('the redactor hears every secret before the config is judged, though the load then fails', async () => {
    const heard: string[] = [];
    const c = cases.find((x) => x.env?.API_KEY)!;
    await loadFailure(c, { addSecret: (v) => heard.push(v) });
    expect(heard).toContain(ENV_SECRET);
  });

  it('printed through the CLI\'s error path (human and --json), the output holds no secret and says where it came from', async () => {
    for (const json of [false, true]) {
      const events = new Events();
      const seen: GangwayEvent[] = [];
      events.on((e) => seen.push(e));
      const c = cases[0]!;
      const err = await loadFailure(c, events);
      expect(reportError('config', err, events, { config: 'gangway.yml', json })).toBe(2);
      const out = JSON.stringify(seen);
      expect(out).not.toContain(FILE_SECRET);
      expect(out).toContain('got a string from secret TOKEN');
    }
  });

  it('a secret equal to a value written in clear is still redacted by the bus (defence in depth)', async () => {
    const events = new Events();
    const seen: GangwayEvent[] = [];
    events.on((e) => seen.push(e));
    // The clear value equals the secret: the message shows it as the user wrote it, the bus hides it.
    const c: Case = { name: 'clear copy', rest: `env:\n  secret: [API_KEY]\nproxy: { bind: "${ENV_SECRET}" }\n`, env: { API_KEY: ENV_SECRET }, message: '' };
    const err = await loadFailure(c, events);
    reportError('config', err, events, { config: 'gangway.yml' });
    expect(JSON.stringify(seen)).not.toContain(ENV_SECRET);
    expect(JSON.stringify(seen)).toContain('[redacted]');
  });
});

describe('what is not a secret stays readable', () => {
  it('an unresolved ${VAR} in registry.password is the reference as written: shown, not redacted', async () => {
    const events = new Events();
    const seen: GangwayEvent[] = [];
    events.on((e) => seen.push(e));
    const err = await loadFailure({ name: 'unresolved', rest: 'registry: { server: r.example.com, password: "${NOT_SET_ANYWHERE}" }\n', message: '' }, events);
    reportError('config', err, events, { config: 'gangway.yml' });
    expect(JSON.stringify(seen)).toContain('${NOT_SET_ANYWHERE}: NOT_SET_ANYWHERE is not set');
    expect(JSON.stringify(seen)).not.toContain('[redacted]');
  });
});

describe('secrets too short to redact are refused, by name, never by value', () => {
  it.each([
    ['an env.secret of the environment', 'env:\n  secret: [DB_PW]\n', {}, { DB_PW: 'pw1' }, 'gangway.yml:7:12 env.secret[0]: secret DB_PW is 3 characters long; secrets need at least 4 so gangway can keep them out of its output'],
    ['a variable of .gangway/secrets', 'env:\n  clear: { URL: "db://u:${PW}@db" }\n', { PW: 'p' }, {}, 'gangway.yml:7:17 env.clear.URL: secret PW is 1 character long; secrets need at least 4 so gangway can keep them out of its output'],
    ['the registry password written in clear', 'registry: { server: r.example.com, password: ab }\n', {}, {}, 'gangway.yml:6:46 registry.password: the secret registry.password is 2 characters long; secrets need at least 4 so gangway can keep them out of its output'],
    ['an accessory secret', 'accessories:\n  db: { image: postgres, host: vm1, env: { secret: [DB_TOKEN] } }\n', {}, { DB_TOKEN: 'abc' }, 'gangway.yml:7:53 accessories.db.env.secret[0]: secret DB_TOKEN is 3 characters long; secrets need at least 4 so gangway can keep them out of its output'],
  ])('%s: exit 2 naming it', async (_name, rest, fileSecrets, env, message) => {
    const secrets = Object.entries(fileSecrets).map(([k, v]) => `${k}=${v}\n`).join('');
    const err = await loadFailure({ name: 'short', rest, secrets: secrets || 'UNUSED=long-enough\n', env, message });
    expect(err.code).toBe('config');
    expect(err.message).toBe(message);
  });

  it(`accepts a secret of exactly ${MIN_SECRET_LENGTH} characters`, async () => {
    const dir = await project({ name: 'ok', rest: 'env:\n  secret: [DB_PW]\n', secrets: 'DB_PW=abcd\n' });
    const loaded = await loadConfig({ file: 'gangway.yml', cwd: dir, env: {} });
    expect(loaded.secrets).toEqual({ DB_PW: 'abcd' });
  });
});

describe('indexSecrets (pure)', () => {
  const used = (path: Array<string | number>, name: string, value: string, origin: 'env' | 'secrets'): UsedVar => ({ path, name, value, origin });
  const input = {
    registry: { server: 'r', password: 'reg-pw-123' },
    env: { secret: ['API_KEY'], clear: { A: 'x-env-plain', B: 'from-file-1' } },
    accessories: { db: { env: { secret: ['DB_TOKEN'] } } },
    hosts: { vm1: { address: 'plain-env-value' } },
  };
  const lookup = makeLookup({ API_KEY: 'api-key-1', PLAIN: 'plain-env-value', DB_TOKEN: 'db-token-1' }, { FILE_VAR: 'from-file-1' });
  const index = indexSecrets(input, [
    used(['env', 'clear', 'B'], 'FILE_VAR', 'from-file-1', 'secrets'),
    used(['hosts', 'vm1', 'address'], 'PLAIN', 'plain-env-value', 'env'),
    used(['registry', 'password'], 'REG_PW', 'reg-pw-123', 'env'),
  ], lookup);

  it('collects env.secret, accessory secrets, variables of the secrets file and the registry password', () => {
    expect(index.values).toEqual({ API_KEY: 'api-key-1', DB_TOKEN: 'db-token-1', FILE_VAR: 'from-file-1', REG_PW: 'reg-pw-123' });
  });

  it('knows where a secret landed, and that a plain environment variable is not one', () => {
    expect(index.sourceAt(['env', 'clear', 'B'])).toBe('FILE_VAR');
    expect(index.sourceAt(['registry', 'password'])).toBe('REG_PW');
    expect(index.sourceAt(['hosts', 'vm1', 'address'])).toBeUndefined();
    const tell = valueTeller(index);
    expect(tell(['hosts', 'vm1', 'address'], 'plain-env-value')).toBe('"plain-env-value"');
    expect(tell(['env', 'clear', 'B'], 'from-file-1')).toBe('a string from secret FILE_VAR');
  });

  it('a short one is a problem pointed at its env.secret entry', () => {
    const short = indexSecrets({ env: { secret: ['K'] } }, [], makeLookup({ K: 'abc' }, {}));
    expect(shortSecretProblems(short, { env: { secret: ['K'] } }, [])).toEqual([
      { path: ['env', 'secret', 0], at: 'value', severity: 'error', message: 'secret K is 3 characters long; secrets need at least 4 so gangway can keep them out of its output' },
    ]);
  });
});
