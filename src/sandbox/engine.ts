// Running things in containers for the sandbox executors (image and log plumbing is src/docker's).
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { combinedLogText } from '../docker/logs.js';
import { createContainer } from '../docker/containers.js';

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
  const container = await createContainer(docker, create);
  try {
    await container.start();
    const waited = (await Promise.race([
      container.wait(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`container did not exit within ${timeoutMs} ms`)), timeoutMs)),
    ])) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    return { exitCode: waited.StatusCode, output: combinedLogText(logs) };
  } finally {
    await container.remove({ force: true }).catch(() => {});
  }
}
