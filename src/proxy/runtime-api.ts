// The one executor for runtime API lines: one connection per command, HAProxy's non-interactive
// mode. The proxy answers and closes, so the end of the stream is the end of the reply; no
// prompt parsing, and a failed command cannot leave a session half-way through a sequence.
import type { Duplex } from 'node:stream';
import { GangwayError, messageOf } from '../errors.js';
import { batchLine, replyMatches, splitBatchReply, type RuntimeCommand } from './runtime-commands.js';

/**
 * The socket could not be opened: the proxy is down or restarting (its socket is gone), as opposed
 * to a command HAProxy refused. Callers that can wait for the proxy to come back tell them apart.
 */
export class RuntimeUnreachableError extends GangwayError {
  constructor(message: string, info: ConstructorParameters<typeof GangwayError>[2]) {
    super('operation', message, info);
    this.name = 'RuntimeUnreachableError';
  }
}

export interface RuntimeApiOptions {
  /** Host name for error messages. */
  hostName?: string;
  /** Per command, connection included. */
  timeoutMs?: number;
}

export class RuntimeApi {
  private readonly hostName?: string;
  private readonly timeoutMs: number;

  constructor(private readonly open: () => Promise<Duplex>, opts: RuntimeApiOptions = {}) {
    this.hostName = opts.hostName;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** Sends the line and returns HAProxy's reply; a reply that is not the expected one throws. */
  async run(command: RuntimeCommand): Promise<string> {
    return this.judge(command, await this.send(command.line));
  }

  /** Read-only commands in one round trip (see batchLine); each reply judged as `run` does. */
  async runBatch(commands: RuntimeCommand[]): Promise<string[]> {
    const replies = await this.sendBatch(commands.map((c) => c.line));
    return replies.map((reply, i) => this.judge(commands[i]!, reply));
  }

  /** Read-only lines in one round trip, the replies unjudged, one per line. */
  async sendBatch(lines: string[]): Promise<string[]> {
    const line = batchLine(lines);
    const reply = await this.send(line);
    try {
      return splitBatchReply(reply, lines.length);
    } catch (err) {
      throw new GangwayError('operation', `HAProxy's reply to "${line}" is cut short: ${messageOf(err)}`, { host: this.hostName, step: 'proxy' });
    }
  }

  /** The reply when it is the one `command` expects; HAProxy's refusal as an error otherwise. */
  judge(command: RuntimeCommand, reply: string): string {
    if (!replyMatches(command.expect, reply)) {
      const said = reply.trim().split('\n')[0] || '(no reply)';
      throw new GangwayError('operation', `HAProxy refused "${command.line}": ${said}`, {
        host: this.hostName,
        step: 'proxy',
        details: reply.trim() ? reply.trim().split('\n').slice(0, 20) : [],
      });
    }
    return reply;
  }

  /**
   * A command with a payload (`<line> <<`, the payload, an empty line): what `set ssl cert` and
   * `add ssl crt-list` take. The payload may not hold an empty line (it would end there).
   */
  async sendPayload(line: string, payload: string): Promise<string> {
    const body = payload.replace(/\n+$/, '');
    if (/\n\s*\n/.test(body)) throw new Error('a runtime API payload may not contain an empty line');
    return this.send(line, `${line} <<\n${body}\n`);
  }

  /** The raw exchange, without judging the reply. `raw`: the exact text to write (a payload command). */
  async send(line: string, raw?: string): Promise<string> {
    if (line.includes('\n')) throw new Error('a runtime API command is one line');
    let socket: Duplex;
    try {
      let timedOut = false;
      const opening = this.open();
      // A connection that arrives after the timeout is closed, not leaked.
      opening.then((late) => { if (timedOut) late.destroy(); }, () => {});
      socket = await withTimeout(opening, this.timeoutMs, 'connecting to the runtime API').catch((err: unknown) => {
        timedOut = true;
        throw err;
      });
    } catch (err) {
      throw new RuntimeUnreachableError(`cannot reach the proxy's runtime API: ${messageOf(err)}`, {
        host: this.hostName,
        step: 'proxy',
        hint: 'is the gangway-proxy container running? `gangway setup` starts it',
        cause: err,
      });
    }
    return new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new GangwayError('operation', `HAProxy did not answer "${line}" within ${this.timeoutMs} ms`, { host: this.hostName, step: 'proxy' }));
      }, this.timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks).toString('utf8'));
      };
      socket.on('data', (c: Buffer) => chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c)));
      socket.once('end', finish);
      socket.once('close', finish);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new GangwayError('operation', `runtime API connection failed during "${line}": ${messageOf(err)}`, { host: this.hostName, step: 'proxy', cause: err }));
      });
      // Write and half-close, as `echo cmd | socat` does: HAProxy answers one command and closes.
      // HAProxy 3.0 over an SSH stream-local forward waited for the client's end before its reply
      // reached us (every command timed out); 2.6 did not, and answers a half-closed one as well.
      socket.end(raw !== undefined ? `${raw}\n` : `${line}\n`);
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
    promise.then(
      (v) => { clearTimeout(timer); resolve(v); },
      (e: unknown) => { clearTimeout(timer); reject(e); },
    );
  });
}
