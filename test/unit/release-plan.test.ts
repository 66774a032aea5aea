import { describe, expect, it } from 'vitest';
import { newestInScope, planPushes, type RepositoryState } from '../../src/release/plan.js';
import { releaseTargets } from '../../src/release/tags.js';
import { compareNumericVersions, parseNumericVersion } from '../../src/release/version-order.js';

const REPO = '127.0.0.1:5055/hello';
const SOURCE_DIGEST = 'sha256:' + 'a'.repeat(64);
const OTHER_DIGEST = 'sha256:' + 'b'.repeat(64);

function plan(version: string, remote: RepositoryState, opts: { force?: boolean; suffix?: string; prereleaseMovesAliases?: boolean; latest?: boolean } = {}) {
  const { targets } = releaseTargets({ version, semver: true, latest: opts.latest ?? true, images: [REPO], ...(opts.suffix ? { suffix: opts.suffix } : {}), ...(opts.prereleaseMovesAliases ? { prereleaseMovesAliases: true } : {}) });
  const result = planPushes({ targets, version, remote: { [REPO]: remote }, sourceDigests: { [`${REPO}:${version}`]: SOURCE_DIGEST }, force: opts.force ?? false, prereleaseMovesAliases: opts.prereleaseMovesAliases ?? false });
  return Object.fromEntries(result.decisions.map((d) => [d.target.tag, d.action]));
}
const state = (tags: string[], configDigests: Record<string, string | undefined> = {}): RepositoryState => ({ tags, configDigests });

describe('never move a floating tag backwards', () => {
  const cases: { name: string; version: string; tags: string[]; expected: Record<string, string>; force?: boolean; suffix?: string }[] = [
    { name: 'first release moves everything', version: '1.2.3', tags: [], expected: { '1.2.3': 'push', '1.2': 'push', '1': 'push', latest: 'push' } },
    { name: '1.3.0 after 1.2.3 moves everything', version: '1.3.0', tags: ['1.2.3', '1.2', '1', 'latest'], expected: { '1.3.0': 'push', '1.3': 'push', '1': 'push', latest: 'push' } },
    { name: '1.2.4 after 1.3.0 moves 1.2 but not 1 nor latest', version: '1.2.4', tags: ['1.2.3', '1.2', '1.3.0', '1.3', '1', 'latest'], expected: { '1.2.4': 'push', '1.2': 'push', '1': 'hold', latest: 'hold' } },
    { name: '--force moves them anyway', version: '1.2.4', tags: ['1.2.3', '1.3.0'], force: true, expected: { '1.2.4': 'push', '1.2': 'push', '1': 'push', latest: 'push' } },
    { name: '0.9.0 after 1.0.0 moves 0.9 only (0 is not tagged)', version: '0.9.0', tags: ['1.0.0'], expected: { '0.9.0': 'push', '0.9': 'push', latest: 'hold' } },
    { name: '2.0.0 after 10.0.0 compares numbers, not text', version: '2.0.0', tags: ['10.0.0'], expected: { '2.0.0': 'push', '2.0': 'push', '2': 'push', latest: 'hold' } },
    { name: '1.10.0 after 1.9.0 is newer', version: '1.10.0', tags: ['1.9.0'], expected: { '1.10.0': 'push', '1.10': 'push', '1': 'push', latest: 'push' } },
    { name: 'pre-releases in the registry do not hold a release back', version: '1.3.1', tags: ['1.4.0-rc.1', '1.3.0'], expected: { '1.3.1': 'push', '1.3': 'push', '1': 'push', latest: 'push' } },
    { name: 'shorter alias tags are not releases', version: '1.2.4', tags: ['1.3', '2', '1.2.3'], expected: { '1.2.4': 'push', '1.2': 'push', '1': 'push', latest: 'push' } },
    { name: 'commit tags are ignored', version: '1.0.0', tags: ['3f2a9c1e', 'deadbeef-dirty-0123456789ab'], expected: { '1.0.0': 'push', '1.0': 'push', '1': 'push', latest: 'push' } },
    { name: 'a suffix compares only releases with that suffix', version: '1.2.4', suffix: 'foo', tags: ['1.3.0-foo', '9.0.0'], expected: { '1.2.4-foo': 'push', '1.2-foo': 'push', '1-foo': 'hold', foo: 'hold' } },
    { name: 'unsuffixed releases do not hold a suffixed alias', version: '1.2.4', suffix: 'foo', tags: ['1.3.0'], expected: { '1.2.4-foo': 'push', '1.2-foo': 'push', '1-foo': 'push', foo: 'push' } },
    { name: 'suffixed releases do not hold an unsuffixed alias', version: '1.2.4', tags: ['1.3.0-foo'], expected: { '1.2.4': 'push', '1.2': 'push', '1': 'push', latest: 'push' } },
  ];
  for (const c of cases) {
    it(c.name, () => expect(plan(c.version, state(c.tags), { ...(c.force ? { force: true } : {}), ...(c.suffix ? { suffix: c.suffix } : {}) })).toEqual(c.expected));
  }

  it('says which tag stays where and why', () => {
    const { targets } = releaseTargets({ version: '1.2.4', semver: true, latest: true, images: [REPO] });
    const { decisions } = planPushes({ targets, version: '1.2.4', remote: { [REPO]: state(['1.3.0']) }, sourceDigests: {} });
    const one = decisions.find((d) => d.target.tag === '1')!;
    expect(one.newestExisting).toBe('1.3.0');
    expect(one.reason).toBe(`${REPO}:1 stays: 1.3.0 is newer than 1.2.4 (--force to move it)`);
  });
  it('with --prerelease-moves-aliases a newer pre-release holds an older one back', () => {
    expect(plan('1.2.3-rc.1', state(['1.2.3-rc.2']), { prereleaseMovesAliases: true })).toEqual({ '1.2.3-rc.1': 'push', '1.2': 'hold', '1': 'hold', latest: 'hold' });
  });
  it('with --prerelease-moves-aliases a pre-release moves aliases past older releases', () => {
    expect(plan('1.3.0-rc.1', state(['1.2.9']), { prereleaseMovesAliases: true })).toEqual({ '1.3.0-rc.1': 'push', '1.3': 'push', '1': 'push', latest: 'push' });
  });
  it('a commit version moves latest whatever the registry holds', () => {
    const { targets } = releaseTargets({ version: 'abc1234', latest: true, images: [REPO] });
    const { decisions } = planPushes({ targets, version: 'abc1234', remote: { [REPO]: state(['9.9.9', 'zzz']) }, sourceDigests: {} });
    expect(decisions.map((d) => d.action)).toEqual(['push', 'push']);
  });
  it('registries are planned independently', () => {
    const { targets } = releaseTargets({ version: '1.2.4', semver: true, images: ['hello'], registries: ['r1:5000', 'r2:5000'] });
    const { decisions } = planPushes({ targets, version: '1.2.4', remote: { 'r1:5000/hello': state(['1.3.0']), 'r2:5000/hello': state([]) }, sourceDigests: {} });
    expect(decisions.map((d) => `${d.target.ref} ${d.action}`)).toEqual(['r1:5000/hello:1.2.4 push', 'r1:5000/hello:1.2 push', 'r1:5000/hello:1 hold', 'r2:5000/hello:1.2.4 push', 'r2:5000/hello:1.2 push', 'r2:5000/hello:1 push']);
  });
});

describe('the same version pushed twice', () => {
  it('with the same image is skipped (the aliases are still planned)', () => {
    expect(plan('1.2.3', state(['1.2.3'], { '1.2.3': SOURCE_DIGEST }))).toEqual({ '1.2.3': 'skip', '1.2': 'push', '1': 'push', latest: 'push' });
  });
  it('with another image is refused', () => {
    const { targets } = releaseTargets({ version: '1.2.3', images: [REPO] });
    const result = planPushes({ targets, version: '1.2.3', remote: { [REPO]: state(['1.2.3'], { '1.2.3': OTHER_DIGEST }) }, sourceDigests: { [`${REPO}:1.2.3`]: SOURCE_DIGEST } });
    expect(result.refused).toHaveLength(1);
    expect(result.refused[0]!.reason).toBe(`${REPO}:1.2.3 already exists and holds another image (bbbbbbbbbbbb)`);
  });
  it('with an image that cannot be compared (a manifest list) is refused', () => {
    expect(plan('1.2.3', state(['1.2.3'], { '1.2.3': undefined }))['1.2.3']).toBe('refuse');
  });
  it('with another image and --force is pushed, saying it overwrites', () => {
    const { targets } = releaseTargets({ version: '1.2.3', images: [REPO] });
    const result = planPushes({ targets, version: '1.2.3', force: true, remote: { [REPO]: state(['1.2.3'], { '1.2.3': OTHER_DIGEST }) }, sourceDigests: { [`${REPO}:1.2.3`]: SOURCE_DIGEST } });
    expect(result.refused).toEqual([]);
    expect(result.decisions[0]).toMatchObject({ action: 'push', reason: expect.stringMatching(/overwriting .*--force/) });
  });
});

describe('newestInScope', () => {
  it('finds the newest release under a prefix', () => {
    expect(newestInScope(['1.2.3', '1.10.0', '1.9.9', '2.0.0', '1.10.0-rc.1'], { prefix: [1], parts: 3, suffix: '' }, false)).toEqual({ numbers: [1, 10, 0] });
  });
});

describe('numeric version order', () => {
  const ordered = ['0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.2.0', '1.10.0', '2.0.0'];
  for (let i = 1; i < ordered.length; i++) {
    it(`${ordered[i - 1]} < ${ordered[i]}`, () => expect(compareNumericVersions(parseNumericVersion(ordered[i - 1]!)!, parseNumericVersion(ordered[i]!)!)).toBe(-1));
  }
  it('rejects what is not a numeric version', () => {
    for (const t of ['v1.2.3', '1..2', '01.2', '1.2.', 'latest', '1.2.3+build', '']) expect(parseNumericVersion(t), t).toBeUndefined();
  });
});
