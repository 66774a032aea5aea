// Running a command in a running container (docker exec) and collecting its exit code and output:
// the one implementation behind the sandbox's, the testing library's and the health gate's.
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';

export interface ExecInOptions {
  env?: Readonly<Record<string, string>>;
  user?: string;
  workingDir?: string;
  /** Stop waiting after this long (the engine cannot stop an exec; the stream is closed). */
  timeoutMs?: number;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function execInContainer(container: Docker.Container, cmd: readonly string[], options: ExecInOptions = {}): Promise<ExecResult> {
  const exec = await container.exec({
    Cmd: [...cmd],
    AttachStdout: true,
    AttachStderr: true,
    ...(options.env ? { Env: Object.entries(options.env).map(([k, v]) => `${k}=${v}`) } : {}),
    ...(options.user ? { User: options.user } : {}),
    ...(options.workingDir ? { WorkingDir: options.workingDir } : {}),
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const stdout = collect();
  const stderr = collect();
  container.modem.demuxStream(stream, stdout.sink, stderr.sink);
  await new Promise<void>((resolve, reject) => {
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      stream.destroy();
      reject(new Error(`${cmd.join(' ')} did not finish within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    const end = () => { clearTimeout(timer); resolve(); };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', (err) => { clearTimeout(timer); reject(err); });
  });
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, stdout: stdout.text(), stderr: stderr.text() };
}

function collect(): { sink: PassThrough; text: () => string } {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  return { sink, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Between two readings of a detached exec's state. */
const EXEC_POLL_MS = 25;

/**
 * Runs a command in a running container without attaching to it and returns its exit code, or
 * undefined when it still runs after `timeoutMs`. A detached start is a plain request, so the
 * connection goes back to the pool (an attached one is taken over by the stream: over SSH, each
 * costs a new docker stream); for a check whose output nobody reads.
 */
export async function execExitCode(container: Docker.Container, cmd: readonly string[], timeoutMs: number): Promise<number | undefined> {
  const exec = await container.exec({ Cmd: [...cmd], AttachStdout: false, AttachStderr: false });
  // dockerode hands even a detached start's (empty) answer back as a stream: read to its end,
  // it frees the connection.
  const answer = (await exec.start({ Detach: true })) as unknown as { resume?: () => void } | undefined;
  answer?.resume?.();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) return info.ExitCode;
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, EXEC_POLL_MS));
  }
}
