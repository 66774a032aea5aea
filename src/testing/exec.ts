// Runs a command inside a container through the Engine API and collects its output.
import type Docker from 'dockerode';
import { execInContainer } from '../docker/exec.js';
import type { ExecOutput } from './waits/wait-strategy.js';

export interface ExecOptions {
  env?: Readonly<Record<string, string>>;
  user?: string;
  workingDir?: string;
}

export function execIn(docker: Docker, containerId: string, cmd: readonly string[], options: ExecOptions = {}): Promise<ExecOutput> {
  return execInContainer(docker.getContainer(containerId), cmd, options);
}
