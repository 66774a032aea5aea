// The one executor of release operations on a Docker engine (dockerode): tag, push with the
// registry login in the X-Registry-Auth header, and the stream reading both need.
import type Docker from 'dockerode';
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

/** A JSON object of the engine's progress streams (build, push). */
export interface EngineMessage {
  stream?: string;
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string; Tag?: string; Digest?: string; Size?: number };
}

/** Reads a newline-delimited JSON stream; resolves with every message, rejects on stream errors. */
export function readEngineStream(stream: NodeJS.ReadableStream, onMessage: (m: EngineMessage) => void): Promise<EngineMessage[]> {
  return new Promise((resolve, reject) => {
    const all: EngineMessage[] = [];
    let buffered = '';
    const take = (line: string) => {
      const text = line.trim();
      if (!text) return;
      let message: EngineMessage;
      try {
        message = JSON.parse(text) as EngineMessage;
      } catch {
        message = { stream: text };
      }
      all.push(message);
      onMessage(message);
    };
    stream.on('data', (chunk: Buffer | string) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        take(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    });
    stream.on('end', () => { take(buffered); resolve(all); });
    stream.on('error', reject);
  });
}

export function errorOf(m: EngineMessage): string | undefined {
  return m.errorDetail?.message ?? m.error;
}

/** The local image's id (= its config digest), undefined when the engine does not have it. */
export async function localImageId(docker: Docker, ref: string): Promise<string | undefined> {
  try {
    const info = await docker.getImage(ref).inspect();
    return info.Id;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
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
  const repository = repositoryName(ref);
  // Without a login the engine still wants the header; an empty object means "anonymous".
  const stream = (await docker.getImage(repository).push({ tag: ref.tag ?? 'latest', authconfig: auth ?? {} })) as NodeJS.ReadableStream;
  let digest: string | undefined;
  let failure: string | undefined;
  await readEngineStream(stream, (m) => {
    failure ??= errorOf(m);
    if (m.aux?.Digest) digest = m.aux.Digest;
  });
  if (failure) throw operationError(failure);
  return { ref: targetRef, ...(digest ? { digest } : {}) };
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
