// `gangway init` scaffolds files that work as they are, and never clobbers without --force.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { configTemplate, gitignoreWith, run, scaffoldFiles, serviceNameFrom } from '../../src/cli/commands/init.js';
import { loadConfig } from '../../src/config/load.js';

describe('init scaffold (pure)', () => {
  it('the config template is valid and deploys web to localhost', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gangway-init-'));
    try {
      await writeFile(join(dir, 'gangway.yml'), configTemplate('hello'));
      const loaded = await loadConfig({ file: 'gangway.yml', cwd: dir, env: {} });
      expect(loaded.config.service).toBe('hello');
      expect(loaded.roles).toMatchObject([{ name: 'web', hosts: ['localhost'], primary: true, proxied: true }]);
      expect(loaded.hostTargets).toMatchObject([{ name: 'localhost', local: true }]);
      expect(loaded.warnings).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lists the files with their modes; the secrets file is kept when it exists', () => {
    expect(scaffoldFiles('hello').map((f) => [f.path, f.mode.toString(8), f.keepExisting ?? false])).toEqual([
      ['gangway.yml', '644', false],
      ['uptests/web/01-up', '755', false],
      ['.gangway/secrets', '600', true],
      ['.gangway/hooks/pre-deploy.sample', '644', false],
    ]);
    const uptest = scaffoldFiles('hello')[1]!.content;
    expect(uptest.startsWith('#!/bin/sh\n')).toBe(true);
    expect(uptest).toContain('wget -q -O- "http://$1:$2/up"');
  });

  it.each([
    ['My App', 'my-app'],
    ['hello', 'hello'],
    ['__x__', 'x__'],
    ['!!!', 'app'],
  ])('service name from folder %j is %j', (folder, name) => {
    expect(serviceNameFrom(folder)).toBe(name);
  });

  it.each([
    [undefined, '.gangway/secrets\n'],
    ['', '.gangway/secrets\n'],
    ['node_modules\n', 'node_modules\n.gangway/secrets\n'],
    ['node_modules', 'node_modules\n.gangway/secrets\n'],
    ['.gangway/secrets\n', undefined],
    ['/.gangway/secrets\n', undefined],
  ])('.gitignore %j becomes %j', (current, expected) => {
    expect(gitignoreWith(current, '.gangway/secrets')).toBe(expected);
  });
});

describe('init command', () => {
  let dir: string;
  let cwd: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gangway-init-'));
    cwd = process.cwd();
    process.chdir(dir);
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    process.chdir(cwd);
    await rm(dir, { recursive: true, force: true });
  });

  const init = (force = false) => run({ config: 'gangway.yml' }, [], force ? { force: true } : {});

  it('writes every file with its mode and ignores the secrets file in git, idempotently', async () => {
    expect(await init()).toBe(0);
    expect((await stat(join(dir, 'uptests/web/01-up'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(dir, '.gangway/secrets'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, '.gangway/hooks/pre-deploy.sample'))).mode & 0o111).toBe(0);
    expect(await readFile(join(dir, '.gitignore'), 'utf8')).toBe('.gangway/secrets\n');
    expect(await init(true)).toBe(0);
    expect(await readFile(join(dir, '.gitignore'), 'utf8')).toBe('.gangway/secrets\n');
  });

  it('refuses to overwrite without --force (exit 2), and keeps secrets even with --force', async () => {
    await writeFile(join(dir, 'gangway.yml'), 'mine\n');
    const out: string[] = [];
    vi.mocked(process.stdout.write).mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
    expect(await init()).toBe(2);
    expect(out.join('')).toContain('gangway.yml already exists');
    expect(await readFile(join(dir, 'gangway.yml'), 'utf8')).toBe('mine\n');

    await init(true);
    await writeFile(join(dir, '.gangway/secrets'), 'TOKEN=keep-me\n');
    expect(await init(true)).toBe(0);
    expect(await readFile(join(dir, '.gangway/secrets'), 'utf8')).toBe('TOKEN=keep-me\n');
    expect(await readFile(join(dir, 'gangway.yml'), 'utf8')).toContain('hosts: [localhost]');
  });
});
