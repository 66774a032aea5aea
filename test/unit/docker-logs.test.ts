// src/docker's demux of a whole multiplexed log buffer, and its not-found tests.
import { describe, expect, test } from 'vitest';
import { isAlreadyGone, isNotFound, statusCodeOf } from '../../src/docker/errors.js';
import { combinedLogText, demuxLogFrames, looksMultiplexed } from '../../src/docker/logs.js';
import { frame } from './fixtures/log-frames.js';


describe('demuxLogFrames', () => {
  test('keeps stdout and stderr in write order', () => {
    const buf = Buffer.concat([frame(1, 'out1\n'), frame(2, 'err1\n'), frame(1, 'out2\n')]);
    expect(demuxLogFrames(buf).map((f) => f.stream)).toEqual(['stdout', 'stderr', 'stdout']);
    expect(combinedLogText(buf)).toBe('out1\nerr1\nout2\n');
  });
  test('names stdin frames too', () => {
    expect(demuxLogFrames(frame(0, 'in\n')).map((f) => [f.stream, f.data.toString()])).toEqual([['stdin', 'in\n']]);
  });
  test('a TTY container\'s raw log is one stdout frame', () => {
    const raw = Buffer.from('plain text from a tty\n');
    expect(looksMultiplexed(raw)).toBe(false);
    expect(demuxLogFrames(raw)).toEqual([{ stream: 'stdout', data: raw }]);
  });
});

describe('combinedLogText', () => {
  test.each([
    ['empty', Buffer.alloc(0), ''],
    ['raw TTY output', Buffer.from('hello from a tty\n'), 'hello from a tty\n'],
    ['a truncated last frame', Buffer.concat([frame(1, 'ok\n'), frame(2, 'partial').subarray(0, 12)]), 'ok\npart'],
    ['a frame larger than 64 KiB', frame(1, 'x'.repeat(70_000)), 'x'.repeat(70_000)],
  ])('handles %s', (_, buf, text) => {
    expect(combinedLogText(buf)).toBe(text);
  });
  test('a character split across two frames comes out whole', () => {
    const bytes = Buffer.from('é');
    const buf = Buffer.concat([frame(1, ''), Buffer.from([1, 0, 0, 0, 0, 0, 0, 1]), bytes.subarray(0, 1), Buffer.from([1, 0, 0, 0, 0, 0, 0, 1]), bytes.subarray(1)]);
    expect(combinedLogText(buf)).toBe('é');
  });
  test('a body dockerode already decoded to text is returned as it is', () => {
    expect(combinedLogText('already text\n')).toBe('already text\n');
  });
});

describe('not found', () => {
  const err = (statusCode: number, message = 'x') => Object.assign(new Error(message), { statusCode });
  test('404 is not found; other statuses and plain errors are not', () => {
    expect(isNotFound(err(404))).toBe(true);
    expect(isNotFound(err(409))).toBe(false);
    expect(isNotFound(new Error('boom'))).toBe(false);
    expect(isNotFound(undefined)).toBe(false);
    expect(statusCodeOf(err(500))).toBe(500);
  });
  test('already gone: 404, or a 409 for a removal in progress or a container not running', () => {
    expect(isAlreadyGone(err(404))).toBe(true);
    expect(isAlreadyGone(err(409, 'removal of container abc is already in progress'))).toBe(true);
    expect(isAlreadyGone(err(409, 'Container abc is not running'))).toBe(true);
    expect(isAlreadyGone(err(409, 'name is in use'))).toBe(false);
  });
});
