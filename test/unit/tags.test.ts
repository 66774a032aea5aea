import { describe, expect, it } from 'vitest';
import { GangwayError } from '../../src/errors.js';
import { releaseTargets, stripVersionPrefix, versionTags, type TagRuleInput } from '../../src/release/tags.js';

const tagsOf = (input: Omit<TagRuleInput, 'images' | 'registries'>) => versionTags(input).tags.map((t) => t.tag);
const refsOf = (input: TagRuleInput) => releaseTargets(input).targets.map((t) => t.ref);

describe('version tags: docker-ci-deploy examples', () => {
  const cases: { name: string; input: Omit<TagRuleInput, 'images' | 'registries'>; tags: string[] }[] = [
    { name: 'a version alone is one tag', input: { version: '1.2.3' }, tags: ['1.2.3'] },
    { name: '--semver adds major.minor and major', input: { version: '1.2.3', semver: true }, tags: ['1.2.3', '1.2', '1'] },
    { name: '--latest adds latest last', input: { version: '1.2.3', semver: true, latest: true }, tags: ['1.2.3', '1.2', '1', 'latest'] },
    { name: '--latest without --semver', input: { version: '1.2.3', latest: true }, tags: ['1.2.3', 'latest'] },
    { name: '--precision 2 keeps at least two parts', input: { version: '3.5.3', semver: true, precision: 2 }, tags: ['3.5.3', '3.5'] },
    { name: '--precision equal to the parts keeps only the version', input: { version: '3.5.3', semver: true, precision: 3 }, tags: ['3.5.3'] },
    { name: 'a zero major is not tagged alone', input: { version: '0.6.11', semver: true }, tags: ['0.6.11', '0.6'] },
    { name: '--zero tags the zero major', input: { version: '0.6.11', semver: true, zero: true }, tags: ['0.6.11', '0.6', '0'] },
    { name: '0.0.1 keeps 0.0 (only a lone 0 is dropped)', input: { version: '0.0.1', semver: true }, tags: ['0.0.1', '0.0'] },
    { name: 'a version of one part', input: { version: '7', semver: true, latest: true }, tags: ['7', 'latest'] },
    { name: 'four parts', input: { version: '1.2.3.4', semver: true }, tags: ['1.2.3.4', '1.2.3', '1.2', '1'] },
    { name: '--tag foo suffixes the version', input: { version: '1.2.3', suffix: 'foo' }, tags: ['1.2.3-foo'] },
    { name: '--tag foo with --semver suffixes every alias', input: { version: '1.2.3', suffix: 'foo', semver: true }, tags: ['1.2.3-foo', '1.2-foo', '1-foo'] },
    { name: '--tag 1.2-foo strips the version prefix first', input: { version: '1.2.3', suffix: '1.2-foo', semver: true }, tags: ['1.2.3-foo', '1.2-foo', '1-foo'] },
    { name: '--tag 1.2.3-foo is not doubled', input: { version: '1.2.3', suffix: '1.2.3-foo' }, tags: ['1.2.3-foo'] },
    { name: '--tag with --latest tags the bare suffix', input: { version: '1.2.3', suffix: 'foo', semver: true, latest: true }, tags: ['1.2.3-foo', '1.2-foo', '1-foo', 'foo'] },
    { name: '--tag latest means no suffix', input: { version: '1.2.3', suffix: 'latest', latest: true }, tags: ['1.2.3', 'latest'] },
    { name: 'a commit version with --latest', input: { version: '3f2a9c1', latest: true }, tags: ['3f2a9c1', 'latest'] },
    { name: 'precision 2 on a zero major (no lone 0 anyway)', input: { version: '0.6.11', semver: true, precision: 2 }, tags: ['0.6.11', '0.6'] },
  ];
  for (const c of cases) it(c.name, () => expect(tagsOf(c.input)).toEqual(c.tags));
});

describe('version tags: pre-releases (fixed: they move no floating tag by default)', () => {
  const cases: { name: string; input: Omit<TagRuleInput, 'images' | 'registries'>; tags: string[] }[] = [
    { name: '1.2.3-rc.1 moves neither 1.2, 1 nor latest', input: { version: '1.2.3-rc.1', semver: true, latest: true }, tags: ['1.2.3-rc.1'] },
    { name: '5.5.0-alpha is only itself', input: { version: '5.5.0-alpha', semver: true }, tags: ['5.5.0-alpha'] },
    { name: '--prerelease-moves-aliases: 5.5.0-alpha moves 5.5 and 5 but never tags 5.5.0', input: { version: '5.5.0-alpha', semver: true, prereleaseMovesAliases: true }, tags: ['5.5.0-alpha', '5.5', '5'] },
    { name: '--prerelease-moves-aliases with --latest', input: { version: '1.2.3-rc.1', semver: true, latest: true, prereleaseMovesAliases: true }, tags: ['1.2.3-rc.1', '1.2', '1', 'latest'] },
    { name: 'a pre-release with a suffix', input: { version: '2.0.0-beta.2', semver: true, suffix: 'slim' }, tags: ['2.0.0-beta.2-slim'] },
  ];
  for (const c of cases) it(c.name, () => expect(tagsOf(c.input)).toEqual(c.tags));

  it('says why the floating tags were left alone', () => {
    expect(versionTags({ version: '1.2.3-rc.1', semver: true, latest: true }).notes.join('\n')).toMatch(/pre-release.*--prerelease-moves-aliases/);
  });
});

describe('version tags: alias scopes', () => {
  it('an alias follows the releases with its prefix, part count and suffix', () => {
    const tags = versionTags({ version: '1.2.3', semver: true, latest: true, suffix: 'foo' }).tags;
    expect(tags.map((t) => [t.tag, t.kind, t.scope])).toEqual([
      ['1.2.3-foo', 'version', undefined],
      ['1.2-foo', 'alias', { prefix: [1, 2], parts: 3, suffix: 'foo' }],
      ['1-foo', 'alias', { prefix: [1], parts: 3, suffix: 'foo' }],
      ['foo', 'alias', { prefix: [], parts: 3, suffix: 'foo' }],
    ]);
  });
  it('latest of a commit version has no scope (nothing to compare)', () => {
    expect(versionTags({ version: 'abc123', latest: true }).tags[1]).toEqual({ tag: 'latest', kind: 'alias' });
  });
});

describe('version tags: bad input is a usage error (exit 2)', () => {
  const cases: { name: string; input: Omit<TagRuleInput, 'images' | 'registries'>; message: RegExp }[] = [
    { name: 'precision above the version parts', input: { version: '1.2.3', semver: true, precision: 4 }, message: /--precision 4 is more than the 3 part/ },
    { name: 'precision above the parts without --semver', input: { version: '1.2', precision: 3 }, message: /--precision 3/ },
    { name: 'precision 0', input: { version: '1.2.3', semver: true, precision: 0 }, message: /whole number >= 1/ },
    { name: '--semver with a non-numeric version', input: { version: 'abc123', semver: true }, message: /--semver needs a numeric version/ },
    { name: 'a version that is not a Docker tag', input: { version: 'v1 2' }, message: /not a valid Docker tag/ },
    { name: 'a version starting with a dot', input: { version: '.1' }, message: /not a valid Docker tag/ },
    { name: 'a suffix that makes the tag too long', input: { version: '1.2.3', suffix: 'x'.repeat(125) }, message: /not a valid Docker tag/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      let caught: unknown;
      try { versionTags(c.input); } catch (err) { caught = err; }
      expect(caught).toBeInstanceOf(GangwayError);
      expect((caught as GangwayError).code).toBe('usage');
      expect((caught as GangwayError).message).toMatch(c.message);
    });
  }
});

describe('stripVersionPrefix', () => {
  const cases: [string | undefined, string, string][] = [
    [undefined, '1.2.3', ''],
    ['foo', '1.2.3', 'foo'],
    ['1.2-foo', '1.2.3', 'foo'],
    ['1-foo', '1.2.3', 'foo'],
    ['1.2.3', '1.2.3', ''],
    ['10-foo', '1.2.3', '10-foo'],
    ['latest', '1.2.3', ''],
    ['abc-foo', 'abc', 'foo'],
  ];
  for (const [suffix, version, out] of cases) it(`${suffix} on ${version} -> "${out}"`, () => expect(stripVersionPrefix(suffix, version)).toBe(out));
});

describe('release targets: images and registries', () => {
  it('docker-ci-deploy README: 2.7.13 --semver --latest --registry registry:5000', () => {
    expect(refsOf({ version: '2.7.13', semver: true, latest: true, registries: ['registry:5000'], images: ['praekeltorg/alpine-python'] })).toEqual([
      'registry:5000/praekeltorg/alpine-python:2.7.13',
      'registry:5000/praekeltorg/alpine-python:2.7',
      'registry:5000/praekeltorg/alpine-python:2',
      'registry:5000/praekeltorg/alpine-python:latest',
    ]);
  });
  it('the image\'s own registry when no --registry is given', () => {
    expect(refsOf({ version: '1.0.0', images: ['registry.example.com/acme/hello'] })).toEqual(['registry.example.com/acme/hello:1.0.0']);
  });

  const retarget: [string, string, string][] = [
    ['acme/hello', 'r.example.com', 'r.example.com/acme/hello:1.0.0'],
    ['hello', 'r.example.com:5000', 'r.example.com:5000/hello:1.0.0'],
    ['registry.example.com/acme/hello', 'other.example.com', 'other.example.com/acme/hello:1.0.0'],
    ['localhost/hello', 'registry:5000', 'registry:5000/hello:1.0.0'],
    ['localhost:5000/a/b/c', '127.0.0.1:5055', '127.0.0.1:5055/a/b/c:1.0.0'],
    ['registry:5000/hello', 'registry.example.com', 'registry.example.com/hello:1.0.0'],
  ];
  for (const [image, registry, ref] of retarget) {
    it(`--registry ${registry} replaces the registry of ${image}`, () => expect(refsOf({ version: '1.0.0', images: [image], registries: [registry] })).toEqual([ref]));
  }

  it('several images and registries: per image, per registry, version first', () => {
    expect(refsOf({ version: '1.2.3', semver: true, precision: 2, images: ['a', 'b'], registries: ['r1:5000', 'r2:5000'] })).toEqual([
      'r1:5000/a:1.2.3', 'r1:5000/a:1.2', 'r2:5000/a:1.2.3', 'r2:5000/a:1.2',
      'r1:5000/b:1.2.3', 'r1:5000/b:1.2', 'r2:5000/b:1.2.3', 'r2:5000/b:1.2',
    ]);
  });
  it('the source is <image>:<version>, or the image itself when it names a tag', () => {
    const { targets } = releaseTargets({ version: '1.2.3', images: ['registry:5000/hello', 'registry:5000/other:dev'], registries: ['127.0.0.1:5055'] });
    expect(targets.map((t) => [t.source, t.ref, t.registry, t.repository])).toEqual([
      ['registry:5000/hello:1.2.3', '127.0.0.1:5055/hello:1.2.3', '127.0.0.1:5055', '127.0.0.1:5055/hello'],
      ['registry:5000/other:dev', '127.0.0.1:5055/other:1.2.3', '127.0.0.1:5055', '127.0.0.1:5055/other'],
    ]);
  });
  it('a Hub image names the registry docker.io', () => {
    expect(releaseTargets({ version: '1', images: ['acme/hello'] }).targets[0]!.registry).toBe('docker.io');
  });
  it('the same ref twice is planned once', () => {
    expect(refsOf({ version: '1.0.0', images: ['a', 'a'] })).toEqual(['a:1.0.0']);
  });
  it('no image is a usage error', () => {
    expect(() => releaseTargets({ version: '1', images: [] })).toThrow(/no image to release/);
  });
  it('an invalid image or registry is a usage error', () => {
    expect(() => releaseTargets({ version: '1', images: ['Bad/Name'] })).toThrow(/invalid image reference/);
    expect(() => releaseTargets({ version: '1', images: ['a'], registries: ['http://r'] })).toThrow(/invalid registry/);
  });
});
