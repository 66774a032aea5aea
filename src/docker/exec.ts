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
