// The one executor of release operations on a Docker engine (dockerode): tag, push with the
// registry login in the X-Registry-Auth header (the stream reading is src/docker's).
import type Docker from 'dockerode';
import { imageId, pushImage as pushToRegistry } from '../docker/images.js';
import { DockerStreamError } from '../docker/progress.js';
import { GangwayError, messageOf, operationError } from '../errors.js';
import type { Events } from '../events/events.js';
import { parseImageRef, repositoryName } from '../registry/reference.js';
import { describeOperation, outcomeAfterFailure, type PushedRef, type ReleaseOperation, type ReleaseOutcome } from './operations.js';

/** What the engine needs to log in to a registry; sent base64-encoded in a header, never in argv. */
export interface EngineAuth {
  username: string;
  password: string;
  serveraddress: string;
}

/** The local image's id (= its config digest), undefined when the engine does not have it. */
export async function localImageId(docker: Docker, ref: string): Promise<string | undefined> {
  try {
    return await imageId(docker, ref);
  } catch (err) {
    throw operationError(`inspecting the local image ${ref} failed: ${messageOf(err)}`, { step: 'inspect', cause: err });
  }
}

export async function tagImage(docker: Docker, source: string, target: string): Promise<void> {
  const ref = parseImageRef(target);
  await docker.getImage(source).tag({ repo: repositoryName(ref), tag: ref.tag ?? 'latest' });
}

/** Pushes one ref; resolves with the manifest digest the registry gave. */
export async function pushImage(docker: Docker, targetRef: string, auth: EngineAuth | undefined): Promise<PushedRef> {
  const ref = parseImageRef(targetRef);
  let pushed: { digest?: string };
  try {
    pushed = await pushToRegistry(docker, { repository: repositoryName(ref), tag: ref.tag ?? 'latest' }, auth ? { auth } : {});
  } catch (err) {
    if (err instanceof DockerStreamError) throw operationError(err.message);
    throw err;
  }
  return { ref: targetRef, ...pushed };
}

export interface ExecuteOptions {
  events: Events;
  /** Login for a registry host, or undefined for anonymous. */
  authFor(registry: string): EngineAuth | undefined;
}

/**
 * Runs the operations in order and stops at the first failure: a half-done release is reported
 * as exactly what was pushed, what failed, and what was not attempted.
 */
export async function executeOperations(docker: Docker, ops: readonly ReleaseOperation[], opts: ExecuteOptions): Promise<ReleaseOutcome> {
  const { events } = opts;
  const pushed: PushedRef[] = [];
  for (const op of ops) {
    const step = op.kind;
    const label = op.kind === 'tag' ? op.target : op.ref;
    const started = Date.now();
    events.step(step, 'start', { message: label });
    try {
      if (op.kind === 'tag') {
        await tagImage(docker, op.source, op.target);
        events.step(step, 'done', { message: describeOperation(op), durationMs: Date.now() - started });
      } else {
        const result = await pushImage(docker, op.ref, opts.authFor(op.registry));
        pushed.push(result);
        events.step(step, 'done', { message: `${op.ref}${result.digest ? ` ${result.digest}` : ''}`, durationMs: Date.now() - started });
      }
    } catch (err) {
      const message = err instanceof GangwayError ? err.message : messageOf(err);
      events.step(step, 'fail', { message: `${label}: ${message}`, durationMs: Date.now() - started });
      return outcomeAfterFailure(ops, pushed, { op, message });
    }
  }
  return { pushed, notAttempted: [] };
}
