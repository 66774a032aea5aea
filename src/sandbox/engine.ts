// Running things in containers for the sandbox executors (image and log plumbing is src/docker's).
import type Docker from 'dockerode';
import { combinedLogText } from '../docker/logs.js';
import { createContainer } from '../docker/containers.js';
import { execInContainer } from '../docker/exec.js';

export interface ExecOutput {
  exitCode: number;
  output: string;
}

/** Runs a command in a running container and collects its stdout+stderr. */
export async function execIn(container: Docker.Container, cmd: string[], timeoutMs = 30_000): Promise<ExecOutput> {
  const r = await execInContainer(container, cmd, { timeoutMs });
  return { exitCode: r.exitCode, output: r.stdout + r.stderr };
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
