// LogBuffer, log waits and the HTTP client's URL handling: no Docker involved.
import { describe, expect, test } from 'vitest';
import { LogBuffer } from '../../src/testing/log-buffer.js';
import { waitForLines } from '../../src/testing/waits/log-wait.js';
import { httpClient } from '../../src/testing/http-client.js';
import { combinedLogText } from '../../src/docker/logs.js';

describe('LogBuffer', () => {
  test('splits chunks into lines per stream and flushes partial lines at the end', () => {
    const logs = new LogBuffer();
    logs.push('stdout', 'hel');
    logs.push('stderr', 'oops\n');
    logs.push('stdout', 'lo\r\nwor');
    logs.end();
    expect(logs.lines()).toEqual([
      { stream: 'stderr', text: 'oops' },
      { stream: 'stdout', text: 'hello' },
      { stream: 'stdout', text: 'wor' },
    ]);
    expect(logs.lastLines(2)).toEqual(['hello', 'wor']);
  });
});

describe('waitForLines', () => {
  test('all of a set, in any order, from past and future lines', async () => {
    const logs = new LogBuffer();
    logs.push('stdout', 'b ready\n');
    const waiting = waitForLines(logs, [/a ready/, /b ready/], {});
    logs.push('stdout', 'a ready\n');
    expect(await waiting).toEqual(['a ready', 'b ready']);
  });

  test('in order: a line before its predecessor does not count', async () => {
    const logs = new LogBuffer();
    logs.push('stdout', 'second\nfirst\n');
    let done = false;
    const waiting = waitForLines(logs, [/first/, /second/], { inOrder: true }).then(() => { done = true; });
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    logs.push('stdout', 'second again\n');
    await waiting;
    expect(done).toBe(true);
  });

  test('fromLine ignores what was logged before', async () => {
    const logs = new LogBuffer();
    logs.push('stdout', 'ready\n');
    const waiting = waitForLines(logs, [/ready/], { fromLine: logs.count });
    logs.push('stdout', 'ready again\n');
    expect(await waiting).toEqual(['ready again']);
  });
});

test('http client resolves relative paths against 127.0.0.1 and the host port', () => {
  const client = httpClient(32768);
  expect(client.baseUrl).toBe('http://127.0.0.1:32768');
});

test('combinedLogText joins the payloads of multiplexed frames', () => {
  const frame = (stream: number, text: string) => {
    const payload = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  };
  expect(combinedLogText(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]))).toBe('out\nerr\n');
});
