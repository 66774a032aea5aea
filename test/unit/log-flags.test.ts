// The log flags (`gangway logs`, `gangway accessory logs`) and the pure half of the log reader:
// frames in arbitrary chunks, lines per stream with the engine's timestamp, grep then last N.
import { describe, expect, test } from 'vitest';
import { GangwayError, exitCodeFor } from '../../src/errors.js';
import { logQueryOf, parseGrep, parseLines, parseSince } from '../../src/cli/log-flags.js';
import { engineTime, logLinesOf, LogLineSplitter, selectLines } from '../../src/docker/log-lines.js';
import { LogFrameParser, demuxLogFrames } from '../../src/docker/logs.js';
import { frame } from './fixtures/log-frames.js';


/** The usage error a call throws: its message and exit code. */
function usage(fn: () => unknown): { message: string; exit: number } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GangwayError);
    return { message: (err as GangwayError).message, exit: exitCodeFor((err as GangwayError).code) };
  }
  throw new Error('expected a usage error');
}

const NOW = Date.UTC(2025, 0, 31, 12, 0, 0, 250);

describe('--since', () => {
  test('a duration counts back from now, in the engine\'s seconds.nanoseconds', () => {
    expect(parseSince('10m', NOW)).toBe(`${(NOW - 600_000 - 250) / 1000}.250000000`);
    expect(parseSince('2h', NOW)).toBe(engineTime(NOW - 7_200_000));
    expect(parseSince('30s', NOW)).toBe(engineTime(NOW - 30_000));
    expect(Number(parseSince('30s', NOW))).toBeCloseTo((NOW - 30_000) / 1000, 3);
  });
  test('an RFC 3339 time keeps every digit of its fraction and honours its offset', () => {
    expect(parseSince('2025-01-31T09:30:00Z', NOW)).toBe(`${Date.UTC(2025, 0, 31, 9, 30) / 1000}.000000000`);
    expect(parseSince('2025-01-31T09:30:00.123456789Z', NOW)).toBe(`${Date.UTC(2025, 0, 31, 9, 30) / 1000}.123456789`);
    expect(parseSince('2025-01-31T10:30:00.5+01:00', NOW)).toBe(`${Date.UTC(2025, 0, 31, 9, 30) / 1000}.500000000`);
  });
  test.each(['10x', '10', 'yesterday', '-5m', '2025-02-30T00:00:00Z', '2025-13-01T00:00:00Z', '2025-01-31T09:30:00', '2025-01-31T09:30:00.1234567891Z'])('%s is exit 2 naming --since', (bad) => {
    const e = usage(() => parseSince(bad, NOW));
    expect(e.exit).toBe(2);
    expect(e.message).toContain(`--since ${bad}`);
  });
});

describe('--lines and --grep', () => {
  test('lines: a whole number or all', () => {
    expect(parseLines('0')).toBe(0);
    expect(parseLines('25')).toBe(25);
    expect(parseLines('all')).toBeUndefined();
    for (const bad of ['-1', '1.5', 'ten', '']) {
      const e = usage(() => parseLines(bad));
      expect([e.exit, e.message.startsWith('--lines')]).toEqual([2, true]);
    }
  });
  test('grep: JavaScript syntax, -i for case', () => {
    expect(parseGrep('err(or)?\\b').test('an error here')).toBe(true);
    expect(parseGrep('ERROR').test('an error')).toBe(false);
    expect(parseGrep('ERROR', true).test('an error')).toBe(true);
    const e = usage(() => parseGrep('(unclosed'));
    expect(e.exit).toBe(2);
    expect(e.message).toContain('--grep (unclosed');
  });
  test('every flag is checked together; defaults: 100 lines, no since, no pattern', () => {
    expect(logQueryOf({}, NOW)).toEqual({ lines: 100 });
    expect(logQueryOf({ since: '1m', lines: 'all', grep: 'x', ignoreCase: true }, NOW)).toEqual({ since: engineTime(NOW - 60_000), grep: /x/i });
    expect(usage(() => logQueryOf({ ignoreCase: true })).message).toContain('--ignore-case needs --grep');
    expect(usage(() => logQueryOf({ lines: '5', grep: '[' })).exit).toBe(2);
  });
});

describe('log lines', () => {
  const body = Buffer.concat([
    frame(1, '2025-01-31T09:30:00.000000001Z one\n'),
    frame(2, '2025-01-31T09:30:00.000000002Z two to stderr\n'),
    frame(1, '2025-01-31T09:30:00.000000003Z three\r\n'),
  ]);

  test('each line has its stream and the engine\'s timestamp, which leaves the text', () => {
    expect(logLinesOf(body)).toEqual([
      { text: 'one', stream: 'stdout', timestamp: '2025-01-31T09:30:00.000000001Z' },
      { text: 'two to stderr', stream: 'stderr', timestamp: '2025-01-31T09:30:00.000000002Z' },
      { text: 'three', stream: 'stdout', timestamp: '2025-01-31T09:30:00.000000003Z' },
    ]);
  });

  test('frames in any chunking give the same frames as the whole buffer', () => {
    const whole = demuxLogFrames(body).map((f) => [f.stream, f.data.toString()]);
    for (const size of [1, 3, 7, 8, 9, 20]) {
      const parser = new LogFrameParser();
      const got = [];
      for (let i = 0; i < body.length; i += size) got.push(...parser.push(body.subarray(i, i + size)));
      got.push(...parser.end());
      // Chunked frames may split a payload; joined per stream they must say the same.
      const joined = (s: string, frames: Array<[string, string]>) => frames.filter(([st]) => st === s).map(([, t]) => t).join('');
      const chunked = got.map((f) => [f.stream, f.data.toString()] as [string, string]);
      expect(joined('stdout', chunked)).toBe(joined('stdout', whole as Array<[string, string]>));
      expect(joined('stderr', chunked)).toBe(joined('stderr', whole as Array<[string, string]>));
    }
  });

  test('a line cut across frames waits for its own stream, not the other one', () => {
    const split = new LogLineSplitter();
    expect(split.push([{ stream: 'stdout', data: Buffer.from('hal') }, { stream: 'stderr', data: Buffer.from('err\n') }])).toEqual([{ text: 'err', stream: 'stderr' }]);
    expect(split.push([{ stream: 'stdout', data: Buffer.from('f\n') }])).toEqual([{ text: 'half', stream: 'stdout' }]);
    split.push([{ stream: 'stdout', data: Buffer.from('no newline') }]);
    expect(split.end()).toEqual([{ text: 'no newline', stream: 'stdout' }]);
  });

  test('a TTY container\'s raw log is lines without a stream', () => {
    expect(logLinesOf(Buffer.from('2025-01-31T09:30:00Z raw\n'))).toEqual([{ text: 'raw', stream: 'stdout', timestamp: '2025-01-31T09:30:00Z' }]);
  });

  test('grep first, then the last N of what matches', () => {
    const lines = ['a1', 'b1', 'a2', 'b2', 'a3'].map((text) => ({ text }));
    expect(selectLines(lines, { grep: /^a/, lines: 2 }).map((l) => l.text)).toEqual(['a2', 'a3']);
    expect(selectLines(lines, { lines: 2 }).map((l) => l.text)).toEqual(['b2', 'a3']);
    expect(selectLines(lines, { grep: /b/ }).map((l) => l.text)).toEqual(['b1', 'b2']);
    expect(selectLines(lines, { lines: 0 })).toEqual([]);
  });
});
