// An HTTP agent whose "sockets" are SSH channels to the engine's API (a forward to its socket, or
// `docker system dial-stdio`), so dockerode talks to a remote engine over the host's one SSH
// connection, with keep-alive reuse.
import { Agent } from 'node:http';
import { Duplex } from 'node:stream';
import { inspect } from 'node:util';

/** Placeholder origin for dockerode: requests never resolve it, the agent supplies the stream. */
export const ENGINE_ORIGIN = { host: 'docker.invalid', port: 2375, protocol: 'http' as const };

/** Where the engine listens on a host with Docker's packaged defaults. */
export const ENGINE_SOCKET = '/var/run/docker.sock';

/** The remote command that bridges stdin/stdout to the engine's API socket, wherever it is. */
export const DIAL_STDIO_COMMAND = 'docker system dial-stdio';

/**
 * OpenSSH allows 10 sessions per connection (MaxSessions); docker streams take at most this
 * many of them so exec channels keep room when the streams are dial-stdio sessions.
 */
const MAX_DOCKER_STREAMS = 4;

/**
 * A socket-shaped stream handed to the HTTP client at once, wired to the channel when it opens.
 * Node's Agent counts only sockets that createConnection returns synchronously; a channel given
 * later through the callback is not counted, and maxSockets would not hold (measured: 20
 * parallel requests opened 20 channels and hit sshd's "no more sessions").
 */
class PendingChannelSocket extends Duplex {
  private channel?: Duplex;

  constructor(opening: Promise<Duplex>) {
    super({ allowHalfOpen: false });
    opening.then(
      (channel) => {
        if (this.destroyed) {
          channel.destroy();
          return;
        }
        this.channel = channel;
        channel.on('data', (chunk: Buffer) => {
          if (!this.push(chunk)) channel.pause();
        });
        channel.on('end', () => this.push(null));
        channel.on('error', (err: Error) => this.destroy(err));
        channel.on('close', () => this.destroy());
        this.emit('channel');
      },
      (err: Error) => this.destroy(err),
    );
  }

  private withChannel(use: (channel: Duplex) => void): void {
    if (this.channel) use(this.channel);
    else this.once('channel', () => use(this.channel!));
  }

  override _read(): void {
    this.channel?.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.withChannel((channel) => channel.write(chunk, callback));
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.withChannel((channel) => {
      channel.end();
      callback();
    });
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.channel?.destroy();
    callback(err);
  }

  // net.Socket methods the HTTP client and agent call; none means anything for an SSH channel.
  setKeepAlive(): this { return this; }
  setNoDelay(): this { return this; }
  setTimeout(): this { return this; }
  ref(): this { return this; }
  unref(): this { return this; }

  // The channel leads to the whole SSH client (its keys among it): see EngineAgent's.
  [inspect.custom](): string {
    return `EngineSocket { ${this.channel ? 'open' : 'opening'}${this.destroyed ? ', destroyed' : ''} }`;
  }
}

const countOf = (byOrigin: NodeJS.ReadOnlyDict<unknown[]>): number => Object.values(byOrigin).reduce((n, list) => n + (list?.length ?? 0), 0);

/**
 * docker-modem inspects every request's options, agent included, with `showHidden` and no depth
 * limit, whether or not its debug log is on: through the sockets that walked the whole SSH client
 * on every Engine API request (CPU a deploy's profile showed under Modem.buildRequest), and with
 * DEBUG set it would have printed that client, keys and all. Inspected, it is one line of counts.
 */
class EngineAgent extends Agent {
  [inspect.custom](): string {
    return `EngineAgent { streams in use: ${countOf(this.sockets)}, idle: ${countOf(this.freeSockets)}, waiting requests: ${countOf(this.requests)}, max: ${MAX_DOCKER_STREAMS} }`;
  }
}

export function engineAgent(openStream: () => Promise<Duplex>): Agent {
  const agent = new EngineAgent({ keepAlive: true, maxSockets: MAX_DOCKER_STREAMS, maxTotalSockets: MAX_DOCKER_STREAMS, scheduling: 'lifo' });
  agent.createConnection = () => new PendingChannelSocket(openStream());
  return agent;
}
