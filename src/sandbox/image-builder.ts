// The one executor that turns an ImageSpec into a tagged image on the local engine, skipping
// the build when the content-hash tag already exists.
import type Docker from 'dockerode';
import { operationError, messageOf } from '../errors.js';
import type { Events } from '../events/events.js';
import { buildImage, imageExists } from '../docker/images.js';
import { progressText } from '../docker/progress.js';
import { runToCompletion } from './engine.js';
import { IMAGE_LABEL, imageHash, imageTag, packContext, type ImageSpec } from './image-spec.js';

export interface BuiltImage {
  name: string;
  tag: string;
  hash: string;
  /** False when the tag already existed and nothing was built. */
  built: boolean;
  durationMs: number;
}

export async function ensureImage(docker: Docker, spec: ImageSpec, events: Events): Promise<BuiltImage> {
  const started = Date.now();
  const tag = imageTag(spec);
  const hash = imageHash(spec);
  const step = `image ${spec.name}`;
  if (await imageExists(docker, tag)) {
    events.step(step, 'skip', { message: `${tag} (cached)` });
    return { name: spec.name, tag, hash, built: false, durationMs: Date.now() - started };
  }
  events.step(step, 'start', { message: tag });
  const buildLog: string[] = [];
  try {
    await buildImage(docker, packContext(spec) as unknown as NodeJS.ReadableStream, {
      t: tag,
      buildargs: spec.buildArgs ?? {},
      labels: { [IMAGE_LABEL]: spec.name, 'gangway.hash': hash },
      rm: true,
      forcerm: true,
    }, (m) => {
      for (const line of progressText(m)) {
        buildLog.push(line);
        events.log(line, { step });
      }
    });
  } catch (err) {
    events.step(step, 'fail', { message: messageOf(err) });
    throw operationError(`building ${tag} failed: ${messageOf(err)}`, { step, details: buildLog.slice(-20), cause: err });
  }
  if (spec.smokeTest) await smokeTest(docker, spec, tag, step);
  const durationMs = Date.now() - started;
  events.step(step, 'done', { message: tag, durationMs });
  return { name: spec.name, tag, hash, built: true, durationMs };
}

async function smokeTest(docker: Docker, spec: ImageSpec, tag: string, step: string): Promise<void> {
  const test = spec.smokeTest!;
  const result = await runToCompletion(docker, {
    Image: tag,
    Entrypoint: test.entrypoint,
    Cmd: test.cmd,
    Labels: { [IMAGE_LABEL]: spec.name, 'gangway.smoke-test': 'true' },
    HostConfig: { NetworkMode: 'none' },
  });
  if (!test.expectOutput.test(result.output)) {
    // A tag that exists is trusted as cached, so a broken build must not keep its tag.
    await docker.getImage(tag).remove({ force: true }).catch(() => {});
    throw operationError(`the fresh image ${tag} does not run: ${[...test.entrypoint, ...test.cmd].join(' ')} exited ${result.exitCode}`, {
      step,
      details: result.output.trim().split('\n').slice(-10),
    });
  }
}
