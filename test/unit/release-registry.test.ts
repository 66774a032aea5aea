import { describe, expect, it } from 'vitest';
import { parseChallenge, tokenUrl } from '../../src/registry/challenge.js';
import { nextPage } from '../../src/registry/client.js';
import { apiRepository, formatImageRef, isInsecureRegistry, parseImageRef, registryApiBase, sameRegistry } from '../../src/registry/reference.js';

describe('parseImageRef', () => {
  const cases: [string, ReturnType<typeof parseImageRef>][] = [
    ['hello', { repository: 'hello' }],
    ['hello:1.2', { repository: 'hello', tag: '1.2' }],
    ['acme/hello', { repository: 'acme/hello' }],
    ['registry.example.com/acme/hello:1.2.3', { registry: 'registry.example.com', repository: 'acme/hello', tag: '1.2.3' }],
    ['registry:5000/hello', { registry: 'registry:5000', repository: 'hello' }],
    ['registry:5000/hello:v1', { registry: 'registry:5000', repository: 'hello', tag: 'v1' }],
    ['localhost/hello', { registry: 'localhost', repository: 'hello' }],
    ['127.0.0.1:5055/a/b/c:x_y', { registry: '127.0.0.1:5055', repository: 'a/b/c', tag: 'x_y' }],
    ['registry/hello', { repository: 'registry/hello' }],
    [`hello@sha256:${'0'.repeat(64)}`, { repository: 'hello', digest: `sha256:${'0'.repeat(64)}` }],
  ];
  for (const [text, ref] of cases) {
    it(text, () => {
      expect(parseImageRef(text)).toEqual(ref);
      expect(formatImageRef(parseImageRef(text))).toBe(text);
    });
  }
  for (const bad of ['', 'Hello', 'a//b', 'a:b:c', 'a:', 'a/-b', 'r.example.com/x:bad tag', 'x@sha256:12']) {
    it(`rejects "${bad}"`, () => expect(() => parseImageRef(bad)).toThrow(/invalid image reference/));
  }
});

describe('registry endpoints', () => {
  const insecure: [string, boolean][] = [
    ['localhost:5000', true], ['127.0.0.1:5055', true], ['127.1.2.3', true], ['registry:5000', true],
    ['registry:5001', false], ['registry.example.com', false], ['docker.io', false],
  ];
  for (const [r, yes] of insecure) it(`${r} is ${yes ? '' : 'not '}plain HTTP`, () => expect(isInsecureRegistry(r)).toBe(yes));
  it('extra insecure registries', () => expect(isInsecureRegistry('ci-cache:5000', ['ci-cache:5000'])).toBe(true));
  it('API bases', () => {
    expect(registryApiBase('127.0.0.1:5055')).toBe('http://127.0.0.1:5055');
    expect(registryApiBase('registry.example.com')).toBe('https://registry.example.com');
    expect(registryApiBase('docker.io')).toBe('https://registry-1.docker.io');
  });
  it('Hub official images live under library/', () => {
    expect(apiRepository({ repository: 'hello' })).toBe('library/hello');
    expect(apiRepository({ repository: 'acme/hello' })).toBe('acme/hello');
    expect(apiRepository({ registry: 'r:5000', repository: 'hello' })).toBe('hello');
  });
  it('sameRegistry ignores case, scheme and Hub aliases', () => {
    expect(sameRegistry('Registry.Example.com', 'https://registry.example.com/')).toBe(true);
    expect(sameRegistry('index.docker.io', 'docker.io')).toBe(true);
    expect(sameRegistry('r:5000', 'r:5001')).toBe(false);
  });
});

describe('WWW-Authenticate challenges', () => {
  it('Bearer with realm, service and scope', () => {
    const c = parseChallenge('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:acme/hello:pull"');
    expect(c).toEqual({ scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:acme/hello:pull' } });
    expect(tokenUrl(c!, 'x')).toBe('https://auth.example.com/token?service=registry.example.com&scope=repository%3Aacme%2Fhello%3Apull');
  });
  it('Basic realm', () => expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic', params: { realm: 'Registry Realm' } }));
  it('a Bearer challenge without scope gets the fallback scope', () => {
    expect(tokenUrl(parseChallenge('Bearer realm="http://127.0.0.1:1/t"')!, 'repository:a:pull')).toBe('http://127.0.0.1:1/t?scope=repository%3Aa%3Apull');
  });
  it('no header, no challenge', () => expect(parseChallenge(null)).toBeUndefined());
});

describe('tag list pagination', () => {
  it('follows a relative next link', () => expect(nextPage('</v2/hello/tags/list?last=b&n=2>; rel="next"')).toBe('/v2/hello/tags/list?last=b&n=2'));
  it('follows an absolute next link', () => expect(nextPage('<https://r/v2/hello/tags/list?last=b>; rel=next')).toBe('/v2/hello/tags/list?last=b'));
  it('stops without one', () => expect(nextPage(null)).toBeUndefined());
});
