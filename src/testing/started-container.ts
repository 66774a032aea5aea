// A running container of a test environment: its ports, an HTTP client on them, exec, logs,
// and the live state (log lines, exit) that waits react to.
import type { Readable } from 'node:stream';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { combinedLogText } from '../docker/logs.js';
import type { ContainerInspectInfo } from 'dockerode';
import { operationError } from '../errors.js';
import type { ContainerDefinition, StartedContainer } from './definitions.js';
import type { RunEvents } from './docker-events.js';
import { type ExecOptions, execIn } from './exec.js';
import { type HttpClient, httpClient } from './http-client.js';
import { LogBuffer, type LogStreamName } from './log-buffer.js';
import { waitForLines } from './waits/log-wait.js';
import { type ExitInfo, runWait, type RunWaitTarget } from './waits/run-wait.js';
import { DEFAULT_WAIT_TIMEOUT_MS, type ContainerEvent, type ExecOutput } from './waits/wait-strategy.js';
import { portKey, publishedPorts, sortedPortKeys } from './ports.js';
import { LogWait } from './waits/log-wait.js';

/** Live state of one container, owned by its environment. */
export class ContainerRuntime implements StartedContainer {
  readonly logBuffer = new LogBuffer();
  readonly exited: Promise<ExitInfo>;
  private resolveExited!: (info: ExitInfo) => void;
  private ports = new Map<string, number>();
  private follower?: Readable;
  private stopEvents: () => void;
  private exitInfo?: ExitInfo;

  constructor(
    private readonly docker: Docker,
    readonly definition: ContainerDefinition,
    readonly id: string,
    readonly containerName: string,
    private readonly runEvents: RunEvents,
  ) {
    this.exited = new Promise((resolve) => { this.resolveExited = resolve; });
    this.stopEvents = runEvents.on(id, (e) => {
      if (e.action === 'die') {
        this.exitInfo = { exitCode: Number(e.attributes.exitCode ?? -1) };
        this.resolveExited(this.exitInfo);
      }
    });
  }

  get name(): string {
    return this.definition.name;
  }

  /** Follows the log stream and reads the published ports; called right after start. */
  async attach(): Promise<void> {
    const container = this.docker.getContainer(this.id);
    const [stream, info] = await Promise.all([
      container.logs({ follow: true, stdout: true, stderr: true }) as unknown as Promise<Readable>,
      container.inspect(),
    ]);
    this.follower = stream;
    this.ports = publishedPorts(info);
    const sink = (name: LogStreamName) => new Writable({ write: (chunk: Buffer, _enc, cb) => { this.logBuffer.push(name, chunk.toString('utf8')); cb(); } });
    this.docker.modem.demuxStream(stream, sink('stdout'), sink('stderr'));
    stream.on('end', () => this.logBuffer.end());
    stream.on('close', () => this.logBuffer.end());
    stream.on('error', () => this.logBuffer.end());
  }

  async waitUntilReady(): Promise<void> {
    const strategy = this.definition.options.wait;
    if (!strategy) return;
    await runWait(strategy, this.asWaitTarget());
  }

  /** Stops following logs and events: the environment is tearing down. */
  detach(): void {
    this.stopEvents();
    this.follower?.destroy();
    this.logBuffer.end();
  }

  get exitCode(): number | undefined {
    return this.exitInfo?.exitCode;
  }

  hostPort(port: number | string): number {
    const key = portKey(port as number);
    const hostPort = this.ports.get(key);
    if (hostPort === undefined) {
      throw operationError(`container ${this.name} does not publish port ${key}`, {
        step: 'testing.ports',
        hint: `published: ${[...this.ports.keys()].join(', ') || 'none'}; add it to the definition's ports`,
      });
    }
    return hostPort;
  }

  firstHostPort(): number {
    const first = sortedPortKeys(this.ports.keys())[0];
    if (first === undefined) {
      throw operationError(`container ${this.name} publishes no port`, { step: 'testing.ports', hint: 'add `ports` to its definition' });
    }
    return this.ports.get(first)!;
  }

  /** Container port keys in numeric order ('80/tcp', '8080/tcp'). */
  publishedPortKeys(): string[] {
    return sortedPortKeys(this.ports.keys());
  }

  private cachedHttp?: HttpClient;
  get http(): HttpClient {
    this.cachedHttp ??= httpClient(this.firstHostPort());
    return this.cachedHttp;
  }

  httpFor(port: number | string): HttpClient {
    return httpClient(this.hostPort(port));
  }

  exec(cmd: string | readonly string[], options?: ExecOptions): Promise<ExecOutput> {
    const argv = typeof cmd === 'string' ? ['sh', '-c', cmd] : cmd;
    return execIn(this.docker, this.id, argv, options);
  }

  async logs(options: { stream?: LogStreamName | 'both'; tail?: number } = {}): Promise<string> {
    const which = options.stream ?? 'both';
    const buffer = (await this.docker.getContainer(this.id).logs({
      follow: false,
      stdout: which !== 'stderr',
      stderr: which !== 'stdout',
      ...(options.tail !== undefined ? { tail: options.tail } : {}),
    })) as unknown as Buffer;
    return combinedLogText(buffer);
  }

  async waitForLog(pattern: RegExp, options: { timeoutMs?: number; onlyNew?: boolean } = {}): Promise<string> {
    const fromLine = options.onlyNew ? this.logBuffer.count : 0;
    let matched = '';
    const strategy = new LogWait([pattern], { fromLine, timeoutMs: options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS });
    await runWait({
      description: strategy.description,
      timeoutMs: strategy.timeoutMs,
      waitUntilReady: async (t, signal) => { [matched = ''] = await waitForLines(t.logs, [pattern], { fromLine }, signal); },
    }, this.asWaitTarget());
    return matched;
  }

  inspect(): Promise<ContainerInspectInfo> {
    return this.docker.getContainer(this.id).inspect();
  }

  async clean(): Promise<void> {
    await this.definition.options.clean?.(this);
  }

  /** The view of this container that waits get. */
  asWaitTarget(): RunWaitTarget {
    const self = this;
    return {
      name: this.name,
      id: this.id,
      // Waits see the live buffer as `logs`; the public `logs()` asks the engine instead.
      logs: this.logBuffer,
      exited: this.exited,
      hostPort: (p) => self.hostPort(p),
      firstHostPort: () => self.firstHostPort(),
      onEvent: (l: (e: ContainerEvent) => void) => self.runEvents.on(self.id, l),
      inspect: () => self.inspect(),
      exec: (cmd) => self.exec(cmd),
    };
  }
}
