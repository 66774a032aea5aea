// The engine's progress streams (pull, push, build, import): newline-delimited JSON over an HTTP
// 200. A failure that happens once the stream has started (a blob the registry lost, a RUN that
// exits non-zero, a push the registry refuses) arrives as a message with `error`/`errorDetail`,
// not as an HTTP error, so a reader that only watches the transport takes it for a success.
//
// Read here rather than with docker-modem's followProgress: that one throws from inside its
// 'data' handler on a line that is not JSON (an uncaught exception) and drops a last line that
// has no newline.

/** One message of a progress stream; only the fields gangway reads. */
export interface ProgressMessage {
  /** Build output, possibly several lines. */
  stream?: string;
  /** Pull/push status ("Pulling fs layer", "Pushed"...). */
  status?: string;
  /** The layer or tag the status is about. */
  id?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
  /** Build: ID of the built image; push: the manifest Digest. */
  aux?: { ID?: string; Tag?: string; Digest?: string; Size?: number };
}

/** The engine reported a failure inside a progress stream; the message is Docker's. */
export class DockerStreamError extends Error {
  constructor(message: string, readonly messages: readonly ProgressMessage[]) {
    super(message);
    this.name = 'DockerStreamError';
  }
}

/** One line of the stream; a line that is not JSON is kept as text rather than lost. */
export function parseProgressLine(line: string): ProgressMessage | undefined {
  const text = line.trim();
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as ProgressMessage) : { stream: text };
  } catch {
    return { stream: text };
  }
}

/** The failure a message reports, in Docker's words; undefined for an ordinary message. */
export function progressError(m: ProgressMessage): string | undefined {
  if (m.errorDetail === undefined && m.error === undefined) return undefined;
  return (m.errorDetail?.message ?? m.error ?? '').trim() || 'the engine reported an error without a message';
}

/** The human text of a message (build output or a status), one entry a non-empty line. */
export function progressText(m: ProgressMessage): string[] {
  return (m.stream ?? m.status ?? '').split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
}

/** The first failure among messages, or undefined when the stream reported none. */
export function firstProgressError(messages: readonly ProgressMessage[]): string | undefined {
  for (const m of messages) {
    const error = progressError(m);
    if (error !== undefined) return error;
  }
  return undefined;
}

export interface FollowOptions {
  /** Called with every message as it arrives, errors included. */
  onMessage?: (m: ProgressMessage) => void;
  /** Aborting destroys the stream and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Reads a progress stream to its end. Resolves with every message; rejects with the transport's
 * error, or with a DockerStreamError carrying the first failure the engine reported in the stream.
 */
export function followProgress(stream: NodeJS.ReadableStream, opts: FollowOptions = {}): Promise<ProgressMessage[]> {
  return new Promise((resolve, reject) => {
    const messages: ProgressMessage[] = [];
    let pending = '';
    let settled = false;
    const take = (line: string) => {
      const m = parseProgressLine(line);
      if (!m) return;
      messages.push(m);
      opts.onMessage?.(m);
    };
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      if (err !== undefined) return reject(err);
      const failure = firstProgressError(messages);
      if (failure !== undefined) reject(new DockerStreamError(failure, messages));
      else resolve(messages);
    };
    const onAbort = () => {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      settle(opts.signal!.reason);
    };
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (chunk: Buffer | string) => {
      pending += chunk.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        take(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    const end = () => {
      take(pending);
      pending = '';
      settle();
    };
    stream.on('end', end);
    // A socket that closes without 'end' still ends the stream: what arrived is what there is.
    stream.on('close', end);
    stream.on('error', (err: Error) => settle(err));
  });
}
