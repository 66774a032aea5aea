// Which HAProxy image of a sandbox a test or bench runs (GANGWAY_TEST_PROXY, --proxy).
import { describe, expect, it } from 'vitest';
import { GangwayError } from '../../src/errors.js';
import { parseProxyLine, proxyImageOf } from '../../src/sandbox/proxy-lines.js';

const images = { proxy: 'registry:5000/gangway/haproxy:a', busybox: 'b', hello: 'h' };

describe('proxy lines of the sandbox', () => {
  it('2.6 unless 3.0 is named; anything else is a usage error naming where it came from', () => {
    expect(parseProxyLine(undefined, 'GANGWAY_TEST_PROXY')).toBe('2.6');
    expect(parseProxyLine('', 'GANGWAY_TEST_PROXY')).toBe('2.6');
    expect(parseProxyLine('3.0', '--proxy')).toBe('3.0');
    const err = (() => { try { parseProxyLine('3.2', '--proxy'); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(GangwayError);
    expect((err as GangwayError).message).toBe('--proxy: HAProxy line "3.2" is not one the sandbox builds (2.6, 3.0)');
  });

  it('takes the image of the line; a sandbox from before 3.0 has 2.6 only and says how to get 3.0', () => {
    const both = { ...images, proxies: { '2.6': images.proxy, '3.0': 'registry:5000/gangway/haproxy-3.0:c' } };
    expect(proxyImageOf({ images: both }, '3.0')).toBe('registry:5000/gangway/haproxy-3.0:c');
    expect(proxyImageOf({ images: both }, '2.6')).toBe(images.proxy);
    expect(proxyImageOf({ images }, '2.6')).toBe(images.proxy);
    expect(() => proxyImageOf({ images }, '3.0')).toThrow(/no HAProxy 3.0 image/);
  });
});
