// src/docker's progress-stream reading: parsing, the error Docker reports inside an HTTP 200
// stream, and the pull/push/build calls built on it, against fake streams (no engine).
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { describe, expect, test } from 'vitest';
import { buildImage, pullIfMissing, pullImage, pushImage } from '../../src/docker/images.js';
import { DockerStreamError, followProgress, parseProgressLine, progressError, progressText, type ProgressMessage } from '../../src/docker/progress.js';

// What the engine (20.10) sent for a pull whose config and layer blobs the registry no longer had.
const BLOB_GONE = 'error pulling image configuration: download failed after attempts=1: unknown blob';
const FAILED_PULL = [
  '{"status":"Pulling from probe/broken","id":"v1"}',
  '{"status":"Pulling fs layer","progressDetail":{},"id":"bc450c0888e0"}',
  '{"status":"Downloading","progressDetail":{},"id":"bc450c0888e0"}',
  `{"errorDetail":{"message":"${BLOB_GONE}"},"error":"${BLOB_GONE}"}`,
].join('\r\n') + '\r\n';

/** A stream that sends the chunks one by one, then ends. */
function streamOf(...chunks: string[]): PassThrough {
  const s = new PassThrough();
  setImmediate(() => {
    for (const c of chunks) s.write(c);
    s.end();
  });
  return s;
}

describe('parseProgressLine', () => {
  test('reads a JSON message', () => {
    expect(parseProgressLine('{"status":"Pushed","id":"abc"}')).toEqual({ status: 'Pushed', id: 'abc' });
  });
  test('skips blank lines and keeps a line that is not JSON as text', () => {
    expect(parseProgressLine('  \r')).toBeUndefined();
    expect(parseProgressLine('Step 1/2 : FROM scratch\r')).toEqual({ stream: 'Step 1/2 : FROM scratch' });
    expect(parseProgressLine('42')).toEqual({ stream: '42' });
  });
});

describe('progressError', () => {
  test('prefers errorDetail.message, falls back to error', () => {
    expect(progressError({ error: 'short', errorDetail: { message: 'detailed' } })).toBe('detailed');
    expect(progressError({ error: 'only this' })).toBe('only this');
  });
  test('an error without words is still an error; an ordinary message is none', () => {
    expect(progressError({ errorDetail: {} })).toMatch(/error without a message/);
    expect(progressError({ status: 'Downloading' })).toBeUndefined();
  });
});

test('progressText gives the non-empty lines of build output or a status', () => {
  expect(progressText({ stream: 'Step 1/2 : FROM scratch\n ---> abc\n\n' })).toEqual(['Step 1/2 : FROM scratch', ' ---> abc']);
  expect(progressText({ status: 'Pushed', id: 'x' })).toEqual(['Pushed']);
  expect(progressText({ aux: { ID: 'sha256:1' } })).toEqual([]);
});

describe('followProgress', () => {
  test('resolves with every message, lines split across chunks and a last line without newline', async () => {
    const seen: ProgressMessage[] = [];
    const all = await followProgress(streamOf('{"status":"Pul', 'ling"}\n{"stream":"a\\n"}\n', '{"aux":{"ID":"sha256:9"}}'), { onMessage: (m) => seen.push(m) });
    expect(all).toEqual([{ status: 'Pulling' }, { stream: 'a\n' }, { aux: { ID: 'sha256:9' } }]);
    expect(seen).toEqual(all);
  });

  test('an error inside the stream rejects with Docker\'s message, after every message was seen', async () => {
    const seen: ProgressMessage[] = [];
    const failure = await followProgress(streamOf(FAILED_PULL), { onMessage: (m) => seen.push(m) }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DockerStreamError);
    expect((failure as Error).message).toBe(BLOB_GONE);
    expect((failure as DockerStreamError).messages).toHaveLength(4);
    expect(seen).toHaveLength(4);
  });

  test('the first of several errors is the one reported', async () => {
    await expect(followProgress(streamOf('{"error":"first"}\n{"error":"second"}\n'))).rejects.toThrow(/^first$/);
  });

  test('a transport error rejects with that error', async () => {
    const s = new PassThrough();
    setImmediate(() => { s.write('{"status":"Downloading"}\n'); s.destroy(new Error('socket hang up')); });
    await expect(followProgress(s)).rejects.toThrow('socket hang up');
  });

  test('aborting destroys the stream and rejects with the reason', async () => {
    const s = new PassThrough();
    const abort = new AbortController();
    const following = followProgress(s, { signal: abort.signal });
    abort.abort(new Error('took too long'));
    await expect(following).rejects.toThrow('took too long');
    expect(s.destroyed).toBe(true);
  });
});

/** Just enough of dockerode for the image calls: what they asked for and the stream they get. */
function fakeDocker(opts: { images?: Record<string, string>; pull?: () => NodeJS.ReadableStream | Promise<NodeJS.ReadableStream>; push?: () => NodeJS.ReadableStream; build?: () => NodeJS.ReadableStream }) {
  const calls: Array<{ call: string; args: unknown[] }> = [];
  const images = { ...(opts.images ?? {}) };
  const docker = {
    getImage: (ref: string) => ({
      inspect: async () => {
        if (images[ref]) return { Id: images[ref] };
        throw Object.assign(new Error(`No such image: ${ref}`), { statusCode: 404 });
      },
      push: async (...args: unknown[]) => { calls.push({ call: 'push', args: [ref, ...args] }); return opts.push!(); },
    }),
    pull: async (...args: unknown[]) => { calls.push({ call: 'pull', args }); return opts.pull!(); },
    buildImage: async (...args: unknown[]) => { calls.push({ call: 'build', args }); return opts.build!(); },
  };
  return { docker: docker as unknown as Docker, calls, images };
}

describe('image calls', () => {
  test('pullImage rejects when the pull fails inside its stream', async () => {
    const { docker, calls } = fakeDocker({ pull: () => streamOf(FAILED_PULL) });
    await expect(pullImage(docker, 'registry:5000/probe/broken:v1', { auth: { serveraddress: 'registry:5000' } })).rejects.toThrow(BLOB_GONE);
    expect(calls[0]!.args).toEqual(['registry:5000/probe/broken:v1', { authconfig: { serveraddress: 'registry:5000' } }]);
  });

  test('pullImage with a signal: an engine that never answers is given up with the signal\'s reason', async () => {
    const { docker } = fakeDocker({ pull: () => new Promise<never>(() => {}) });
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('no answer within 0.1 s')), 100);
    await expect(pullImage(docker, 'x:1', { signal: abort.signal })).rejects.toThrow('no answer within 0.1 s');
  });

  test('pullIfMissing: present is not pulled; missing is pulled; a failed pull fails', async () => {
    const present = fakeDocker({ images: { 'a:1': 'sha256:a' } });
    expect(await pullIfMissing(present.docker, 'a:1')).toEqual({ id: 'sha256:a', pulled: false });
    expect(present.calls).toEqual([]);

    const missing = fakeDocker({ pull: () => { missing.images['b:1'] = 'sha256:b'; return streamOf('{"status":"Downloaded newer image for b:1"}\n'); } });
    expect(await pullIfMissing(missing.docker, 'b:1')).toEqual({ id: 'sha256:b', pulled: true });

    const broken = fakeDocker({ pull: () => streamOf(FAILED_PULL) });
    await expect(pullIfMissing(broken.docker, 'c:1')).rejects.toThrow(BLOB_GONE);
  });

  test('pushImage sends an anonymous login by default and returns the digest the registry gave', async () => {
    const { docker, calls } = fakeDocker({ push: () => streamOf('{"status":"Pushed","id":"l1"}\n{"status":"v1: digest: sha256:d size: 1","aux":{"Tag":"v1","Digest":"sha256:d","Size":1}}\n') });
    expect(await pushImage(docker, { repository: '127.0.0.1:5000/app', tag: 'v1' })).toEqual({ digest: 'sha256:d' });
    expect(calls[0]!.args).toEqual(['127.0.0.1:5000/app', { tag: 'v1', authconfig: {} }]);
  });

  test('pushImage rejects when the registry refuses inside the stream', async () => {
    const { docker } = fakeDocker({ push: () => streamOf('{"status":"Preparing"}\n{"errorDetail":{"message":"denied: requested access to the resource is denied"},"error":"denied"}\n') });
    await expect(pushImage(docker, { repository: 'r/app', tag: 'v1' })).rejects.toThrow('denied: requested access to the resource is denied');
  });

  test('buildImage returns the built id, or rejects with the failing step\'s words', async () => {
    const ok = fakeDocker({ build: () => streamOf('{"stream":"Step 1/1 : FROM scratch\\n"}\n{"aux":{"ID":"sha256:built"}}\n') });
    expect(await buildImage(ok.docker, new PassThrough(), { t: 'x:1' })).toEqual({ imageId: 'sha256:built' });
    const failing = fakeDocker({ build: () => streamOf('{"stream":"Step 2/2 : RUN false\\n"}\n{"errorDetail":{"code":1,"message":"The command \'/bin/sh -c false\' returned a non-zero code: 1"},"error":"The command \'/bin/sh -c false\' returned a non-zero code: 1"}\n') });
    await expect(buildImage(failing.docker, new PassThrough(), { t: 'x:1' })).rejects.toThrow("returned a non-zero code: 1");
  });
});
