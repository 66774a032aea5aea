// The built CLI on bad configs: exit 2, file:line:col in the output, no stack trace unless
// --verbose. Builds dist/ first (tsc), since bin/gangway.js runs the compiled code.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin/gangway.js');
let dir: string;

beforeAll(() => {
  // Other modules' type errors must not stop this test: tsc still emits, so check the output.
  spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'ignore', timeout: 120_000 });
  if (!existsSync(join(root, 'dist/cli/commands/config.js'))) throw new Error('npm run build did not produce dist/cli/commands/config.js');
  dir = mkdtempSync(join(tmpdir(), 'gangway-cli-config-'));
}, 150_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function gangway(args: string[], env: Record<string, string> = {}, cwd = dir): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', NO_COLOR: '1', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function configFile(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

const STACK_LINE = /^\s{4}at /m;

const badConfigs: Array<[string, string, string]> = [
  ['bad YAML', 'service: hello\nservers:\n  web: [vm1\n  other: x\n', 'bad-yaml.yml:4:3 invalid YAML'],
  ['unknown key', 'service: hello\nimage: i\nservers: { web: { hosts: [vm1] } }\ndrian_timeout: 3s\n', 'unknown-key.yml:4:1 drian_timeout: unknown key `drian_timeout` — did you mean `drain_timeout`?'],
  ['malformed host', 'service: hello\nimage: i\nservers:\n  web:\n    hosts: [vm1, "vm 2"]\n', 'malformed-host.yml:5:18 servers.web.hosts[1]: expected a host name or address, got "vm 2"'],
  ['missing variable', 'service: hello\nimage: i\nservers: { web: { hosts: [vm1] } }\nregistry:\n  server: r\n  password: ${NOT_SET_ANYWHERE}\n', 'missing-variable.yml:6:13 registry.password: ${NOT_SET_ANYWHERE}: NOT_SET_ANYWHERE is not set'],
  ['bad duration', 'service: hello\nimage: i\nservers: { web: { hosts: [vm1] } }\ndrain_timeout: forever\n', 'bad-duration.yml:4:16 drain_timeout: expected a duration'],
];

describe('gangway config (built binary)', () => {
  it.each(badConfigs)('%s: exit 2, position in the output, no stack trace', (name, text, expected) => {
    const file = configFile(`${name.toLowerCase().replace(/ /g, '-')}.yml`, text);
    const { code, out } = gangway(['-c', file, 'config']);
    expect(code).toBe(2);
    expect(out).toContain(expected);
    expect(out).not.toMatch(STACK_LINE);
  });

  it('several problems: every one listed, then the summary', () => {
    const file = configFile('many.yml', 'service: hello\nimage: i\nservers:\n  web: { hosts: [] }\nretian: 3\n');
    const { code, out } = gangway(['-c', file, 'config']);
    expect(code).toBe(2);
    expect(out).toContain('many.yml:4:17 servers.web.hosts: a role needs at least one host');
    expect(out).toContain('many.yml:5:1 retian: unknown key `retian` — did you mean `retain`?');
    expect(out).toContain('error: 2 problems in many.yml');
    expect(out).not.toMatch(STACK_LINE);
  });

  it('--verbose shows the stack trace', () => {
    const file = configFile('verbose.yml', 'service: hello\nimage: i\nservers: {}\n');
    const { code, out } = gangway(['-c', file, '--verbose', 'config']);
    expect(code).toBe(2);
    expect(out).toContain('verbose.yml:3:10 servers: servers needs at least one role');
    expect(out).toMatch(STACK_LINE);
  });

  it('a missing destination file: exit 2, named', () => {
    const file = configFile('dest.yml', 'service: hello\nimage: i\nservers: { web: { hosts: [vm1] } }\n');
    const { code, out } = gangway(['-c', file, '-d', 'staging', 'config']);
    expect(code).toBe(2);
    expect(out).toContain('dest.staging.yml: destination file for -d staging not found');
  });

  const VALID = 'service: hello\nimage: i\nregistry: { server: r, password: "${REG_PW}" }\nservers: { web: { hosts: [vm1] } }\nenv:\n  clear: { URL: "db://${DB_PW}@db" }\n  secret: [DB_PW]\n';
  const secretsEnv = { REG_PW: 'registry-pass-42', DB_PW: 'db-pass-4242' };

  it('prints the resolved config as YAML with secrets redacted', () => {
    const file = configFile('valid.yml', VALID);
    const { code, out } = gangway(['-c', file, 'config'], secretsEnv);
    expect(code).toBe(0);
    expect(out).toContain('password: "[redacted]"');
    expect(out).toContain('URL: "[redacted]"');
    expect(out).toContain('drain_timeout: 30000');
    expect(out).not.toContain('registry-pass-42');
    expect(out).not.toContain('db-pass-4242');
  });

  it('--json emits one result event of kind config, redacted', () => {
    const file = configFile('valid-json.yml', VALID);
    const { code, out } = gangway(['-c', file, '--json', 'config'], secretsEnv);
    expect(code).toBe(0);
    const events = out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; kind?: string; data?: { config: { registry: { password: string } } } });
    const results = events.filter((e) => e.type === 'result');
    expect(results).toHaveLength(1);
    expect(results[0]!.kind).toBe('config');
    expect(results[0]!.data!.config.registry.password).toBe('[redacted]');
    expect(out).not.toContain('registry-pass-42');
    expect(out).not.toContain('db-pass-4242');
  });

  // A secret in a key of the wrong type: the error names the secret, never shows it, on every
  // path out (the human lines, the NDJSON events, --verbose's stack).
  const SECRET_IN_PORT = 'service: hello\nimage: i\nservers: { web: { hosts: [vm1] } }\nhosts:\n  vm1: { port: "${DB_PW}" }\nenv: { secret: [DB_PW] }\n';
  it.each([[[] as string[]], [['--json']], [['--verbose']]])('a secret in a key of the wrong type, %j: exit 2, named, never shown', (flags) => {
    const file = configFile(`secret-port${flags.join('')}.yml`, SECRET_IN_PORT);
    const { code, out } = gangway(['-c', file, ...flags, 'config'], { DB_PW: 'db-pass-4242' });
    expect(code).toBe(2);
    expect(out).toContain('hosts.vm1.port: expected a number, got a string from secret DB_PW');
    expect(out).not.toContain('db-pass-4242');
  });

  it('a secret too short to redact: exit 2 naming it', () => {
    const file = configFile('short-secret.yml', 'service: hello\nimage: i\nservers: { web: { hosts: [vm1] } }\nenv: { secret: [DB_PW] }\n');
    const { code, out } = gangway(['-c', file, 'config'], { DB_PW: 'pw' });
    expect(code).toBe(2);
    expect(out).toContain('env.secret[0]: secret DB_PW is 2 characters long; secrets need at least 4');
  });
});

describe('gangway init (built binary)', () => {
  it('scaffolds a config that `gangway config` accepts, then refuses to overwrite it', () => {
    const project = mkdtempSync(join(tmpdir(), 'gangway-cli-init-'));
    try {
      expect(gangway(['init'], {}, project).code).toBe(0);
      const config = gangway(['config'], {}, project);
      expect(config.code).toBe(0);
      expect(config.out).toContain('- localhost');
      const again = gangway(['init'], {}, project);
      expect(again.code).toBe(2);
      expect(again.out).toContain('gangway.yml');
      expect(again.out).toContain('--force');
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
