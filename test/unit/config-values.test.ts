// Durations, percentages, interpolation and merging: the pure pieces of config loading.
import { describe, expect, it } from 'vitest';
import { bootLimit, duration, parseDurationMs } from '../../src/config/schema.js';
import { interpolateString, interpolateValue, makeLookup } from '../../src/config/interpolate.js';
import { deepMerge } from '../../src/config/merge.js';
import { formatPath } from '../../src/config/problems.js';
import { knownKeysAt, suggestKey } from '../../src/config/issues.js';
import { configSchema } from '../../src/config/schema.js';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['0s', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
    expect(duration.parse(text)).toBe(ms);
  });

  it.each(['30', '30 s', 's', '1d', '-1s', ''])('%j is not a duration', (text) => {
    expect(() => parseDurationMs(text)).toThrow();
    expect(duration.safeParse(text).success).toBe(false);
  });
});

describe('boot limits', () => {
  it.each([
    ['25%', { percent: 25 }],
    ['100%', { percent: 100 }],
    ['12.5%', { percent: 12.5 }],
    [2, { count: 2 }],
  ])('%j -> %j', (input, expected) => {
    expect(bootLimit.parse(input)).toEqual(expected);
  });

  it.each(['0%', '150%', 'half', 0, -1, 1.5, '25'])('%j is rejected', (input) => {
    expect(bootLimit.safeParse(input).success).toBe(false);
  });
});

describe('interpolation', () => {
  const lookup = makeLookup({ HOST: 'db.internal', EMPTY: '', BOTH: 'from-env' }, { TOKEN: 's3cret', BOTH: 'from-file' });

  it.each([
    ['postgres://${HOST}/app', 'postgres://db.internal/app'],
    ['${TOKEN}', 's3cret'],
    ['${NOPE:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY}', ''],
    ['$${HOST} stays', '${HOST} stays'],
    ['no refs', 'no refs'],
    ['${HOST}:${HOST}', 'db.internal:db.internal'],
  ])('%j -> %j', (text, expected) => {
    const r = interpolateString(text, [], lookup);
    expect(r.bad).toEqual([]);
    expect(r.value).toBe(expected);
  });

  it('the environment wins over .gangway/secrets', () => {
    expect(interpolateString('${BOTH}', [], lookup).value).toBe('from-env');
  });

  it('reports missing and malformed references with their path and occurrence', () => {
    const r = interpolateString('${A} ${A} ${1X}', ['x'], lookup);
    expect(r.bad).toEqual([
      { path: ['x'], raw: '${A}', occurrence: 0, name: 'A', reason: 'missing' },
      { path: ['x'], raw: '${A}', occurrence: 1, name: 'A', reason: 'missing' },
      { path: ['x'], raw: '${1X}', occurrence: 0, name: '1X', reason: 'malformed' },
    ]);
  });

  it('walks maps and lists, leaves keys and non-strings alone, records where secrets came from', () => {
    const r = interpolateValue({ '${HOST}': ['${TOKEN}', 3, true, null] }, lookup);
    expect(r.value).toEqual({ '${HOST}': ['s3cret', 3, true, null] });
    expect(r.used).toEqual([{ path: ['${HOST}', 0], name: 'TOKEN', value: 's3cret', origin: 'secrets' }]);
  });
});

describe('deepMerge (destination overlays)', () => {
  it.each([
    ['maps merge key by key', { a: { x: 1, y: 2 } }, { a: { y: 3, z: 4 } }, { a: { x: 1, y: 3, z: 4 } }],
    ['arrays replace', { hosts: [1, 2, 3] }, { hosts: [9] }, { hosts: [9] }],
    ['scalars replace', { a: 1 }, { a: 'two' }, { a: 'two' }],
    ['a map replaces a scalar', { a: 1 }, { a: { b: 1 } }, { a: { b: 1 } }],
    ['null replaces', { a: { b: 1 } }, { a: null }, { a: null }],
    ['new keys are added', { a: 1 }, { b: 2 }, { a: 1, b: 2 }],
  ])('%s', (_name, base, overlay, expected) => {
    expect(deepMerge(base, overlay)).toEqual(expected);
  });

  it('does not modify its inputs', () => {
    const base = { a: { b: 1 } };
    deepMerge(base, { a: { b: 2 } });
    expect(base).toEqual({ a: { b: 1 } });
  });
});

describe('key paths and suggestions', () => {
  it.each([
    [['servers', 'web', 'hosts', 1], 'servers.web.hosts[1]'],
    [['hosts', 'vm1.example.com', 'port'], 'hosts["vm1.example.com"].port'],
    [['drain_timeout'], 'drain_timeout'],
    [[], ''],
  ] as const)('%j -> %s', (path, text) => {
    expect(formatPath(path)).toBe(text);
  });

  it('knows the keys at nested paths, through records and defaults', () => {
    expect(knownKeysAt(configSchema, ['servers', 'web'])).toEqual(['hosts', 'cmd', 'proxy', 'env']);
    expect(knownKeysAt(configSchema, ['proxy', 'healthcheck'])).toEqual(['path', 'interval', 'timeout', 'status', 'host']);
    expect(knownKeysAt(configSchema, [])).toContain('drain_timeout');
  });

  it('suggests only close keys', () => {
    expect(suggestKey('drian_timeout', ['deploy_timeout', 'drain_timeout'])).toBe('drain_timeout');
    expect(suggestKey('zzzzzz', ['service', 'image'])).toBeUndefined();
  });
});
