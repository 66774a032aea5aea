// A remote host over ONE ssh2 connection, shared by exec channels, the Docker API (forwards to
// the engine's socket behind an HTTP agent) and stream forwards. Host keys are checked against
// known_hosts.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Agent } from 'node:http';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type Docker from 'dockerode';
import { loadDockerode } from './dockerode.js';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { GangwayError, messageOf, operationError } from '../errors.js';
import type { Events } from '../events/events.js';
import { DIAL_STDIO_COMMAND, ENGINE_ORIGIN, ENGINE_SOCKET, engineAgent } from './engine-agent.js';
import type { ExecOptions, ExecResult, Host, HostStats } from './host.js';
import { countDockerRequests, emptyStats } from './stats.js';
import { checkHostKey, fingerprintSha256, hostKeyAlgorithmsFor, hostLookupName, keyTypeOfBlob, knownHostsLine, parseKnownHosts } from './known-hosts.js';
import { expandHome } from './ssh-auth.js';
import { Credentials, type SshAuthMethods } from './credentials.js';
import { Semaphore } from './semaphore.js';

export interface SshHostOptions {
  /** The name in the config (vm1); messages use it. */
  name: string;
  address: string;
  port: number;
  user: string;
  /** Private key file; without it the ssh-agent, then ~/.ssh/id_ed25519 and id_rsa are used. */
  identityFile?: string;
  /** Every key file to offer, in order, when there are several. */
  identityFiles?: string[];
  identitiesOnly?: boolean;
  /** The command's credentials (agent, key files, passphrases asked once); one of its own otherwise. */
  credentials?: Credentials;
  /** Reach the host through a bastion: a channel the bastion's connection forwards to address:port. */
  tunnel?: Tunnel;
  knownHostsPath: string;
  /** Record unknown host keys instead of refusing them; a changed key is refused regardless. */
  trustOnFirstUse: boolean;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  /**
   * TCP_NODELAY on the connection (default true). false only to measure what OpenSSH's
   * non-interactive sessions (and so Testinfra's ssh backend) pay: bench/verify.
   */
  tcpNoDelay?: boolean;
  /**
   * 'dial-stdio' opens every stream to the engine's API as a dial-stdio session, without trying
   * the forward first: only to measure what that fallback costs (bench/engine-stream).
   */
  engineStreams?: 'forward' | 'dial-stdio';
  /** Where warnings go (a host key trusted on first use). */
  events?: Events;
  env?: NodeJS.ProcessEnv;
}

export interface Tunnel {
  /** The bastion's name, for messages. */
  bastion: string;
  open(address: string, port: number): Promise<Duplex>;
}

/**
 * Exec channels allowed at once. With MAX_DOCKER_STREAMS this stays under OpenSSH's default
 * MaxSessions (10), past which the server refuses new channels.
 */
const MAX_EXEC_CHANNELS = 5;

/** How long close() waits for the server to confirm the end of the connection. */
const CLOSE_GRACE_MS = 2000;

export class SshHost implements Host {
  readonly kind = 'ssh' as const;
  readonly name: string;
  private client?: Client;
  private connecting?: Promise<Client>;
  private agent?: Agent;
  private dockerClient?: Docker;
  private readonly execSlots = new Semaphore(MAX_EXEC_CHANNELS);
  private readonly counters: HostStats = emptyStats();

  constructor(private readonly opts: SshHostOptions) {
    this.name = opts.name;
  }

  /** `[127.0.0.1]:2201` style, as known_hosts and messages name the endpoint. */
  get endpoint(): string {
    return hostLookupName(this.opts.address, this.opts.port);
  }

  async connect(): Promise<void> {
    await this.connection();
  }

  private connection(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    // Loaded while the handshake waits for the server (see dockerode.ts).
    void loadDockerode().catch(() => {});
    this.connecting ??= this.handshake().finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  private async handshake(): Promise<Client> {
    const { name, address, port, user, connectTimeoutMs } = this.opts;
    const where = this.opts.tunnel ? `${name} (${address}:${port} through bastion ${this.opts.tunnel.bastion})` : `${name} (${address}:${port})`;
    const authHandler = await this.authMethods();
    const knownHostsText = await readFile(expandHome(this.opts.knownHostsPath), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw operationError(`cannot read known_hosts ${this.opts.knownHostsPath}: ${messageOf(err)}`, { host: name, step: 'connect' });
    });
    const knownEntries = parseKnownHosts(knownHostsText);
    // The verifier cannot throw through ssh2; it leaves its refusal here for connect to report.
    let hostKeyRefusal: GangwayError | undefined;

    const client = new Client();
    this.counters.connections++;
    const sock = this.opts.tunnel ? await this.openTunnel(this.opts.tunnel) : undefined;
    const config: ConnectConfig = {
      host: address,
      port,
      username: user,
      ...(sock ? { sock: sock as ConnectConfig['sock'] } : {}),
      authHandler: authHandler as ConnectConfig['authHandler'],
      readyTimeout: connectTimeoutMs,
      keepaliveInterval: this.opts.keepaliveIntervalMs,
      keepaliveCountMax: 3,
      algorithms: { serverHostKey: hostKeyAlgorithmsFor(knownEntries, address, port) as never },
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        this.verifyHostKey(knownEntries, key).then(
          () => verify(true),
          (err: unknown) => {
            hostKeyRefusal = err instanceof GangwayError ? err : operationError(messageOf(err), { host: name, step: 'host key' });
            verify(false);
          },
        );
      },
    };

    return new Promise<Client>((resolve, reject) => {
      let settled = false;
      const fail = (err: GangwayError) => {
        if (settled) return;
        settled = true;
        clearTimeout(backstop);
        client.end();
        reject(err);
      };
      const unreachable = () =>
        operationError(`cannot connect to ${where}: unreachable within ${formatSeconds(connectTimeoutMs)}`, {
          host: name,
          step: 'connect',
          hint: `check that the host is up and sshd listens on ${address}:${port}`,
        });
      // ssh2's readyTimeout does not cover every stall (e.g. a TCP connect that never answers).
      const backstop = setTimeout(() => fail(unreachable()), connectTimeoutMs + 500);
      client.once('ready', () => {
        if (settled) return;
        settled = true;
        clearTimeout(backstop);
        // Without TCP_NODELAY, Nagle's algorithm and the server's delayed ACK stall every small
        // request/answer exchange by ~40 ms: measured 48 ms per exec of `true`, 4 ms with it. ssh2
        // creates the socket itself and offers no option, hence its private field.
        (client as unknown as { _sock?: { setNoDelay?: (on: boolean) => void } })._sock?.setNoDelay?.(this.opts.tcpNoDelay ?? true);
        this.client = client;
        resolve(client);
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (hostKeyRefusal) return fail(hostKeyRefusal);
        if (!settled) return fail(this.connectError(err, where, unreachable));
        // After ready, errors surface through the 'close' below and the operations that fail.
      });
      client.on('close', () => {
        if (this.client === client) {
          // The next operation reconnects; the docker client handed out stays usable, its agent
          // opens fresh streams on the new connection.
          this.client = undefined;
          this.agent?.destroy();
        }
        fail(hostKeyRefusal ?? operationError(`connection to ${where} closed during the handshake`, { host: name, step: 'connect' }));
      });
      client.connect(config);
    });
  }

  private connectError(err: Error & { level?: string; code?: string }, where: string, unreachable: () => GangwayError): GangwayError {
    const { name, user } = this.opts;
    if (err.level === 'client-timeout' || /timed out/i.test(err.message)) return unreachable();
    if (err.code === 'ECONNREFUSED') {
      return operationError(`cannot connect to ${where}: connection refused`, { host: name, step: 'connect', hint: 'is sshd running on that port?' });
    }
    if (err.level === 'client-authentication') {
      return operationError(`authentication as ${user} on ${where} failed`, {
        host: name,
        step: 'connect',
        hint: 'check ssh.identity (or hosts.<name>.identity, or IdentityFile in the ssh config), the keys your ssh-agent holds, the key in the host\'s authorized_keys, and the user',
      });
    }
    return operationError(`cannot connect to ${where}: ${err.message}`, { host: name, step: 'connect', cause: err });
  }

  private authMethods(): Promise<SshAuthMethods> {
    const credentials = this.opts.credentials ?? new Credentials({ env: this.opts.env ?? process.env });
    return credentials.methodsFor(this.opts);
  }

  /** The channel to the host, opened by the bastion; either failing names the bastion and the host. */
  private async openTunnel(tunnel: Tunnel): Promise<Duplex> {
    const { name, address, port, connectTimeoutMs } = this.opts;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${formatSeconds(connectTimeoutMs)}`)), connectTimeoutMs + 500);
    });
    try {
      return await Promise.race([tunnel.open(address, port), timeout]);
    } catch (err) {
      const viaStep = err instanceof GangwayError ? err.step : undefined;
      const bastionDown = viaStep === 'connect' || viaStep === 'host key';
      const message = bastionDown
        ? `cannot reach ${name} through bastion ${tunnel.bastion}: ${messageOf(err)}`
        : `bastion ${tunnel.bastion} could not open a connection to ${name} (${address}:${port}): ${messageOf(err)}`;
      throw operationError(message, {
        host: name,
        step: 'connect',
        hint: bastionDown ? (err as GangwayError).hint ?? `check that the bastion ${tunnel.bastion} is up` : `check that ${address}:${port} is reachable from the bastion ${tunnel.bastion} and that its sshd allows TCP forwarding`,
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  private async verifyHostKey(entries: ReturnType<typeof parseKnownHosts>, key: Buffer): Promise<void> {
    const { name, address, port, knownHostsPath, trustOnFirstUse } = this.opts;
    const endpoint = this.endpoint;
    const presented = `${keyTypeOfBlob(key) ?? 'unknown'} ${fingerprintSha256(key)}`;
    const verdict = checkHostKey(entries, address, port, key);
    switch (verdict.status) {
      case 'known':
        return;
      case 'revoked':
        throw operationError(`host key for ${endpoint} (${name}) is revoked in ${knownHostsPath} line ${verdict.entry.line}: ${presented}`, { host: name, step: 'host key' });
      case 'changed': {
        const lines = verdict.expected.map((e) => e.line).join(', ');
        throw operationError(
          `host key for ${endpoint} (${name}) changed: it presented ${presented}, which does not match ${knownHostsPath} line ${lines}; possible man-in-the-middle attack, refusing to connect`,
          {
            host: name,
            step: 'host key',
            hint: `if the host was really rebuilt, remove the old key (ssh-keygen -R '${endpoint}' -f ${knownHostsPath}) and connect again`,
          },
        );
      }
      case 'unknown': {
        if (!trustOnFirstUse) {
          throw operationError(`host key for ${endpoint} (${name}) is unknown: it presented ${presented}, not in ${knownHostsPath}`, {
            host: name,
            step: 'host key',
            hint: `check that fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then trust it: ssh-keyscan -p ${port} ${address} >> ${knownHostsPath} — or set ssh.trust_on_first_use: true`,
          });
        }
        const path = expandHome(knownHostsPath);
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        await appendFile(path, `${knownHostsLine(address, port, key)}\n`, { mode: 0o600 });
        this.opts.events?.log(`trusted new host key ${presented} for ${endpoint} (trust_on_first_use), recorded in ${knownHostsPath}`, { level: 'warn', host: name, step: 'host key' });
        return;
      }
    }
  }

  /**
   * Opens a channel. `onOpen` runs inside ssh2's callback: a fast command's exit status can
   * arrive in the same packet batch as the open confirmation, before any promise continuation
   * could attach a listener (seen here: `true` reporting no exit status, 1 run in ~15).
   */
  private async channel<T>(step: string, open: (client: Client, cb: (err: Error | undefined, stream: T) => void) => void, onOpen?: (stream: T) => void): Promise<T> {
    const client = await this.connection();
    return new Promise<T>((resolve, reject) => {
      open(client, (err, stream) => {
        if (err) return reject(operationError(`${step} on ${this.name} failed: ${err.message}`, { host: this.name, step, cause: err }));
        onOpen?.(stream);
        resolve(stream);
      });
    });
  }

  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const release = await this.execSlots.acquire();
    let result: Promise<ExecResult> | undefined;
    try {
      await this.channel<ClientChannel>('exec', (c, cb) => c.exec(command, cb), (channel) => {
        this.counters.execChannels++;
        // The slot is held until the server closes the channel, not until we stop waiting: a
        // timed-out command can keep its session open, and sessions per connection are capped.
        channel.once('close', release);
        result = runOnChannel(channel, opts);
      });
    } catch (err) {
      release();
      throw err;
    }
    return result!;
  }

  async docker(): Promise<Docker> {
    const [Dockerode] = await Promise.all([loadDockerode(), this.connection()]);
    if (!this.dockerClient) {
      this.agent = engineAgent(() => this.openDockerStream());
      // docker-modem honours `agent` although @types/dockerode does not declare it.
      const options: Docker.DockerOptions & { agent: Agent } = { ...ENGINE_ORIGIN, agent: this.agent };
      this.dockerClient = countDockerRequests(new Dockerode(options), () => { this.counters.dockerRequests++; });
    }
    return this.dockerClient;
  }

  /**
   * A stream to the engine's API: a forward to its socket, which starts nothing on the host
   * (bench/engine-stream: ~3 ms and ~1 ms of the host's CPU per stream, against ~29 ms and ~30 ms
   * for a `docker system dial-stdio` process). When sshd refuses that forward (no
   * engine socket at that path, say a rootless engine, or no access to it), dial-stdio, which
   * follows the host's docker context and DOCKER_HOST.
   */
  private async openDockerStream(): Promise<Duplex> {
    await this.connection();
    if (this.opts.engineStreams === 'dial-stdio') return this.openDialStdio();
    try {
      const stream = await this.channel<ClientChannel>('docker', (c, cb) => c.openssh_forwardOutStreamLocal(ENGINE_SOCKET, cb));
      this.counters.dockerStreams++;
      return stream;
    } catch {
      return this.openDialStdio();
    }
  }

  private openDialStdio(): Promise<Duplex> {
    return this.channel<ClientChannel>('docker', (c, cb) => c.exec(DIAL_STDIO_COMMAND, cb), (channel) => {
      this.counters.dockerStreams++;
      this.counters.dialStdioStreams++;
      let stderr = '';
      channel.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
      // A missing docker CLI or engine shows up as the command exiting; say why instead of "socket hang up".
      channel.on('exit', (code: number | null) => {
        if (code) channel.emit('error', operationError(`docker system dial-stdio on ${this.name} exited with ${code}: ${stderr.trim() || 'no output'}`, { host: this.name, step: 'docker', hint: 'is the docker CLI installed and the engine running on the host?' }));
      });
    });
  }

  openUnixSocket(path: string): Promise<Duplex> {
    return this.channel<ClientChannel>('forward', (c, cb) => c.openssh_forwardOutStreamLocal(path, cb)).then((s) => {
      this.counters.forwards++;
      return s;
    });
  }

  openTcp(address: string, port: number): Promise<Duplex> {
    return this.channel<ClientChannel>('forward', (c, cb) => c.forwardOut('127.0.0.1', 0, address, port, cb)).then((s) => {
      this.counters.forwards++;
      return s;
    });
  }

  stats(): HostStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.agent?.destroy();
    this.agent = undefined;
    this.dockerClient = undefined;
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_GRACE_MS);
      client.once('close', () => { clearTimeout(timer); resolve(); });
      client.end();
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Streams a command's output to the callbacks and settles on the channel's close. */
function runOnChannel(channel: ClientChannel, opts: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve) => {
    const out = new StringDecoder('utf8');
    const err = new StringDecoder('utf8');
    let stdout = '';
    let stderr = '';
    let code: number | undefined;
    let signal: string | undefined;
    let timedOut = false;
    let settled = false;
    const onOut = (text: string) => { if (text) { stdout += text; opts.onStdout?.(text); } };
    const onErr = (text: string) => { if (text) { stderr += text; opts.onStderr?.(text); } };
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      onOut(out.end());
      onErr(err.end());
      resolve({ code: code ?? 255, stdout, stderr, ...(timedOut ? { signal: 'timeout' } : signal ? { signal } : {}) });
    };
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          sendSignal(channel, 'KILL');
          channel.close();
          // OpenSSH confirms the close only once the command has exited, which may be never.
          settle();
        }, opts.timeoutMs)
      : undefined;
    channel.on('data', (chunk: Buffer) => onOut(out.write(chunk)));
    channel.stderr.on('data', (chunk: Buffer) => onErr(err.write(chunk)));
    channel.on('exit', (exitCode: number | null, exitSignal?: string) => {
      if (typeof exitCode === 'number') code = exitCode;
      if (exitSignal) signal = exitSignal;
    });
    channel.on('close', settle);
    channel.on('error', settle);
    // EOF instead of end(): ending the Writable side would make ssh2 drop the signal request a
    // timeout sends later.
    channel.write(opts.stdin ?? '', () => channel.eof());
  });
}

/**
 * Asks the server to signal the command. ssh2's own signal() refuses once stdin is at EOF, which
 * it always is here, so this goes to the protocol layer. OpenSSH honours it only for sessions
 * under privilege separation (not for root logins): the caller must not rely on it.
 */
function sendSignal(channel: ClientChannel, signalName: string): void {
  const inner = channel as unknown as { outgoing?: { id: number; state: string }; _client?: { _protocol?: { signal(id: number, name: string): void } } };
  const outgoing = inner.outgoing;
  if (!outgoing || (outgoing.state !== 'open' && outgoing.state !== 'eof')) return;
  try {
    inner._client?._protocol?.signal(outgoing.id, signalName);
  } catch {
    // Best effort: closing the channel follows anyway.
  }
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
}
