// Small helpers over the Engine API (dockerode) shared by the sandbox executors.
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';

export async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

interface ProgressLine {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/**
 * Waits for a build, import, pull or push progress stream to end. The engine reports
 * failures inside the stream (HTTP 200 with an error line), so those become rejections.
 */
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream, onLine?: (text: string) => void): Promise<ProgressLine[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, lines: ProgressLine[]) => {
        if (err) return reject(err);
        const failed = lines.find((l) => l.error || l.errorDetail);
        if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error ?? 'failed'));
        resolve(lines);
      },
      (line: ProgressLine) => {
        const text = (line.stream ?? line.status ?? '').trimEnd();
        if (text && onLine) onLine(text);
      },
    );
  });
}

export interface ExecOutput {
  exitCode: number;
  output: string;
}

/** Runs a command in a running container and collects its stdout+stderr. */
export async function execIn(container: Docker.Container, cmd: string[], timeoutMs = 30_000): Promise<ExecOutput> {
  const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const sink = new PassThrough();
  let output = '';
  sink.on('data', (c: Buffer) => { output += c.toString('utf8'); });
  container.modem.demuxStream(stream, sink, sink);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`${cmd.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    stream.on('end', () => { clearTimeout(timer); resolve(); });
    stream.on('close', () => { clearTimeout(timer); resolve(); });
    stream.on('error', (err) => { clearTimeout(timer); reject(err); });
  });
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, output };
}

/** Starts a throwaway container, waits for it to exit, returns its output; always removes it. */
export async function runToCompletion(
  docker: Docker,
  create: Docker.ContainerCreateOptions,
  timeoutMs = 30_000,
): Promise<ExecOutput> {
  const container = await docker.createContainer(create);
  try {
    await container.start();
    const waited = (await Promise.race([
      container.wait(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`container did not exit within ${timeoutMs} ms`)), timeoutMs)),
    ])) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    return { exitCode: waited.StatusCode, output: demuxBuffer(logs) };
  } finally {
    await container.remove({ force: true }).catch(() => {});
  }
}

/** Docker's multiplexed log format (8-byte frame headers) to plain text. */
export function demuxBuffer(buf: Buffer): string {
  let out = '';
  let offset = 0;
  while (offset + 8 <= buf.length) {
    const type = buf[offset];
    const size = buf.readUInt32BE(offset + 4);
    if (type === undefined || type > 2) return buf.toString('utf8');
    out += buf.subarray(offset + 8, offset + 8 + size).toString('utf8');
    offset += 8 + size;
  }
  return out;
}

/** True when the engine answered "not found" (or "already gone"): idempotent removals ignore those. */
export const isNotFound = (err: unknown): boolean => {
  const code = (err as { statusCode?: number }).statusCode;
  return code === 404 || (code === 409 && /already in progress|is not running/.test(String((err as Error).message)));
};
