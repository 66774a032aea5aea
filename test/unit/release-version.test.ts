import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseVersion, readGitState, versionFromGit } from '../../src/release/version.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('chooseVersion', () => {
  const git = { commit: SHA };
  const dirty = { commit: SHA, dirtyFingerprint: 'f'.repeat(64) };
  const cases: { name: string; flag?: string; env?: string; git?: typeof dirty | typeof git; version: string; source: string }[] = [
    { name: '--version wins', flag: '1.2.3', env: '9.9.9', git, version: '1.2.3', source: 'flag' },
    { name: '$GANGWAY_VERSION next', env: '2.0.0', git, version: '2.0.0', source: 'env' },
    { name: 'an empty $GANGWAY_VERSION is unset', env: '', git, version: SHA, source: 'git' },
    { name: 'then the full commit', git, version: SHA, source: 'git' },
    { name: 'a dirty tree gets -dirty-<12 hex of the diff>', git: dirty, version: `${SHA}-dirty-ffffffffffff`, source: 'git' },
  ];
  for (const c of cases) {
    it(c.name, () => expect(chooseVersion(c.flag, c.env, c.git)).toMatchObject({ version: c.version, source: c.source }));
  }
  it('an invalid --version is a usage error', () => expect(() => chooseVersion('1.2.3/x', undefined, undefined)).toThrow(/not a valid Docker tag/));
  it('an invalid $GANGWAY_VERSION is a usage error naming its source', () => expect(() => chooseVersion(undefined, '-x', undefined)).toThrow(/GANGWAY_VERSION/));
  it('no source at all is a usage error', () => expect(() => chooseVersion(undefined, undefined, undefined)).toThrow(/no version/));
  it('a 129-character version is refused', () => expect(() => chooseVersion('a'.repeat(129), undefined, undefined)).toThrow(/not a valid Docker tag/));
  it('versionFromGit of a clean tree is the commit', () => expect(versionFromGit({ commit: SHA })).toBe(SHA));
});

describe('readGitState on a real repository', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gangway-version-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('follows the tree: no commit, clean, edited, same edit, other edit, untracked file', async () => {
    git('init', '-q');
    expect(await readGitState(dir)).toBeUndefined();
    writeFileSync(join(dir, 'a.txt'), 'one\n');
    git('add', 'a.txt');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'one');
    const head = git('rev-parse', 'HEAD');
    expect(await readGitState(dir)).toEqual({ commit: head });
    writeFileSync(join(dir, 'a.txt'), 'two\n');
    const edited = await readGitState(dir);
    expect(edited?.dirtyFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect((await readGitState(dir))?.dirtyFingerprint).toBe(edited?.dirtyFingerprint);
    writeFileSync(join(dir, 'a.txt'), 'three\n');
    const other = await readGitState(dir);
    expect(other?.dirtyFingerprint).not.toBe(edited?.dirtyFingerprint);
    writeFileSync(join(dir, 'new.txt'), 'x');
    expect((await readGitState(dir))?.dirtyFingerprint).not.toBe(other?.dirtyFingerprint);
  });
});
