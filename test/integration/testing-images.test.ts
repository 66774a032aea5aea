// Image handling against the real engine: a tag found once is not inspected again by the same
// process, yet an image removed in between is built again instead of failing the create.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, expect, test } from 'vitest';
import { cachedImageTag, container, setup, wait } from '../../src/testing/index.js';

const docker = new Docker();
const dir = mkdtempSync(join(tmpdir(), 'gwt-image-'));
copyFileSync('/bin/busybox', join(dir, 'busybox'));
// Unique content: this test's image is its own, removing it touches no one else's cache.
writeFileSync(join(dir, 'marker'), `${process.pid}-${Date.now()}\n`);
writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY marker /marker\nCMD ["/bin/busybox", "sh", "-c", "echo up; exec /bin/busybox sleep 60"]\n');
const def = container('rebuilt', { image: { build: dir, name: 'it-rebuilt' }, wait: wait.forLog(/^up$/) });

afterAll(async () => {
  const { tag } = await cachedImageTag({ build: dir, name: 'it-rebuilt' }, 'rebuilt');
  await docker.getImage(tag).remove({ force: true }).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

test('an image removed after a setup is built again by the next setup', async () => {
  {
    await using first = await setup(def);
    expect(first.container(def).name).toBe('rebuilt');
  }
  const { tag } = await cachedImageTag({ build: dir, name: 'it-rebuilt' }, 'rebuilt');
  await docker.getImage(tag).remove({ force: true });
  await using second = await setup(def);
  expect((await second.container(def).inspect()).Config.Image).toBe(tag);
  expect((await docker.getImage(tag).inspect()).RepoTags).toContain(tag);
});
