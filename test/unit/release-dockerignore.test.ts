import { describe, expect, it } from 'vitest';
import { buildRequest, OUTSIDE_DOCKERFILE_NAME } from '../../src/release/build.js';
import { isIgnored, parseDockerignore } from '../../src/release/dockerignore.js';

describe('.dockerignore', () => {
  const rules = parseDockerignore(['# comment', '', 'node_modules', '*.log', '/tmp/', '**/*.bak', 'docs/**/draft-*', '!keep.log', 'secret?.txt', '[ab].md'].join('\n'));
  const cases: [string, boolean][] = [
    ['node_modules', true], ['node_modules/x/index.js', true], ['src/node_modules', false],
    ['app.log', true], ['logs/app.log', false], ['keep.log', false],
    ['tmp/file', true], ['src/tmp/file', false],
    ['a.bak', true], ['deep/er/a.bak', true],
    ['docs/draft-1.md', true], ['docs/x/y/draft-2.md', true], ['docs/final.md', false],
    ['secret1.txt', true], ['secret12.txt', false],
    ['a.md', true], ['c.md', false],
    ['Dockerfile', false], ['src/index.ts', false],
  ];
  for (const [path, ignored] of cases) it(`${path} is ${ignored ? '' : 'not '}ignored`, () => expect(isIgnored(path, rules)).toBe(ignored));
  it('an exception brings back a file inside an ignored folder', () => {
    const r = parseDockerignore('vendor\n!vendor/keep.txt\n');
    expect(isIgnored('vendor/drop.txt', r)).toBe(true);
    expect(isIgnored('vendor/keep.txt', r)).toBe(false);
  });
  it('the last matching line wins', () => {
    expect(isIgnored('x.txt', parseDockerignore('!x.txt\n*.txt\n'))).toBe(true);
  });
});

describe('buildRequest', () => {
  const build = { context: '/app', dockerfile: '/app/docker/Dockerfile.prod', args: { A: '1' }, target: 'runtime' };
  it('tags <image>:<version> and labels version and revision', () => {
    expect(buildRequest({ build, image: 'registry:5000/hello', version: '1.2.3', revision: 'abc' })).toEqual({
      context: '/app',
      dockerfile: 'docker/Dockerfile.prod',
      tag: 'registry:5000/hello:1.2.3',
      buildargs: { A: '1' },
      target: 'runtime',
      labels: { 'org.opencontainers.image.version': '1.2.3', 'org.opencontainers.image.revision': 'abc' },
    });
  });
  it('no revision label outside git', () => {
    expect(buildRequest({ build: { ...build, target: undefined } as never, image: 'h', version: '1' }).labels).toEqual({ 'org.opencontainers.image.version': '1' });
  });
  it('a Dockerfile outside the context travels under its own name', () => {
    const r = buildRequest({ build: { ...build, dockerfile: '/elsewhere/Dockerfile' }, image: 'h', version: '1' });
    expect([r.dockerfile, r.outsideDockerfile]).toEqual([OUTSIDE_DOCKERFILE_NAME, '/elsewhere/Dockerfile']);
  });
});
