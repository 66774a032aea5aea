// Ready when a TCP port accepts connections. docker-proxy accepts on the published port even
// while nothing listens inside, so a host-side connect alone proves nothing: the port must be
// in the container's own LISTEN table first, then a connect through the published port must work.
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { operationError } from '../../errors.js';
import { listeningPorts } from '../proc-net-tcp.js';
import { DEFAULT_WAIT_TIMEOUT_MS, type WaitStrategy, type WaitTarget } from './wait-strategy.js';
import { probeLoop } from './probe-loop.js';

export interface PortWaitOptions {
  timeoutMs?: number;
}

export class PortWait implements WaitStrategy {
  readonly description: string;
  readonly timeoutMs: number;

  constructor(private readonly port: number | undefined, options: PortWaitOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    this.description = `TCP port ${port ?? '(first published)'} accepting`;
  }

  async waitUntilReady(target: WaitTarget, signal: AbortSignal): Promise<void> {
    const info = await target.inspect();
    const published = Object.keys(info.NetworkSettings?.Ports ?? {});
    const port = this.port ?? published.map((k) => Number(k.split('/')[0])).sort((a, b) => a - b)[0];
    if (port === undefined) {
      throw operationError(`container ${target.name} publishes no port to wait for`, { step: 'testing.wait', hint: 'pass the port: wait.forPort(5432)' });
    }
    const hostPort = publishedOrUndefined(target, port);
    const readTable = tableReader(target, info.State?.Pid ?? 0);
    return probeLoop(target, signal, async () => {
      const listening = listeningPorts(await readTable());
      if (!listening.has(port)) return false;
      return hostPort === undefined ? true : canConnect(hostPort);
    });
  }
}

function publishedOrUndefined(target: WaitTarget, port: number): number | undefined {
  try { return target.hostPort(port); } catch { return undefined; }
}

/**
 * The container's /proc/net/tcp{,6}: straight from the host's /proc when the engine is local
 * (no exec round trip), else through `cat` inside the container.
 */
function tableReader(target: WaitTarget, pid: number): () => Promise<string> {
  let useHostProc = pid > 0;
  return async () => {
    if (useHostProc) {
      try {
        const [v4, v6] = await Promise.all([
          readFile(`/proc/${pid}/net/tcp`, 'utf8'),
          readFile(`/proc/${pid}/net/tcp6`, 'utf8').catch(() => ''),
        ]);
        return `${v4}\n${v6}`;
      } catch {
        useHostProc = false;
      }
    }
    const out = await target.exec(['cat', '/proc/net/tcp', '/proc/net/tcp6']);
    return out.stdout;
  };
}

function canConnect(hostPort: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: hostPort });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
