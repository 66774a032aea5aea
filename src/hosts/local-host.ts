// `localhost` in the config: the local shell and the local Docker engine, no SSH.
import { spawn } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { loadDockerode } from './dockerode.js';
import type { ExecOptions, ExecResult, Host, HostStats } from './host.js';
import { countDockerRequests, emptyStats } from './stats.js';

export class LocalHost implements Host {
  readonly kind = 'local' as const;
  private client?: Docker;
  private readonly counters: HostStats = emptyStats();

  constructor(readonly name: string = 'localhost', private readonly dockerSocket = process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') ?? '/var/run/docker.sock') {}

  async connect(): Promise<void> {}

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.counters.execChannels++;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const timer = opts.timeoutMs ? setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, opts.timeoutMs) : undefined;
      child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; opts.onStdout?.(c); });
      child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; opts.onStderr?.(c); });
      child.on('error', (err) => { if (timer) clearTimeout(timer); reject(err); });
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({ code: code ?? 255, stdout, stderr, ...(timedOut ? { signal: 'timeout' } : signal ? { signal } : {}) });
      });
      child.stdin.on('error', () => {});
      child.stdin.end(opts.stdin ?? '');
    });
  }

  async docker(): Promise<Docker> {
    const Dockerode = await loadDockerode();
    this.client ??= countDockerRequests(new Dockerode({ socketPath: this.dockerSocket }), () => { this.counters.dockerRequests++; });
    return this.client;
  }

  openUnixSocket(path: string): Promise<Duplex> {
    return this.open(() => netConnect({ path }));
  }

  openTcp(address: string, port: number): Promise<Duplex> {
    return this.open(() => netConnect({ host: address, port }));
  }

  private open(make: () => ReturnType<typeof netConnect>): Promise<Duplex> {
    this.counters.forwards++;
    return new Promise((resolve, reject) => {
      const sock = make();
      sock.once('connect', () => { sock.off('error', reject); resolve(sock); });
      sock.once('error', reject);
    });
  }

  stats(): HostStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {}

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
