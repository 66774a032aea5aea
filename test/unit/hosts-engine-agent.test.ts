import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINE_ORIGIN, engineAgent } from '../../src/hosts/engine-agent.js';

// Stands for what an SSH channel leads to: the client, its config and its key.
const KEY_MATERIAL = 'PRIVATE-KEY-MATERIAL-that-must-never-be-printed';
// How docker-modem's buildRequest inspects every request's options.
const MODEM_INSPECT = { showHidden: true, depth: null } as const;

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A loopback HTTP server; /slow answers only when `release` is called. */
async function engine(): Promise<{ port: number; release: () => void }> {
  let release = () => {};
  server = createServer((req, res) => {
    if (req.url === '/slow') release = () => res.end('slow');
    else res.end('OK');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { port: (server!.address() as AddressInfo).port, release: () => release() };
}

/** A live TCP socket dressed as an ssh2 channel: it holds its client, and the client its key. */
function channelTo(port: number): Promise<Socket> {
  const channel = connect(port, '127.0.0.1') as Socket & { _client?: unknown };
  channel._client = { config: { host: '10.0.0.11', username: 'root', privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${KEY_MATERIAL}\n` }, streams: [channel] };
  return new Promise((resolve, reject) => channel.once('connect', () => resolve(channel)).once('error', reject));
}

function get(agent: ReturnType<typeof engineAgent>, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    request({ host: ENGINE_ORIGIN.host, port: ENGINE_ORIGIN.port, path, agent }, resolve).on('error', reject).end();
  });
}

describe('the dial-stdio agent, inspected as docker-modem does on every request', () => {
  it('is one short line of counts, whatever its sockets hold', async () => {
    const { port, release } = await engine();
    const channels: Socket[] = [];
    const agent = engineAgent(async () => {
      const c = await channelTo(port);
      channels.push(c);
      return c;
    });
    try {
      const first = await get(agent, '/_ping');
      first.resume();
      await new Promise((resolve) => first.on('end', resolve));
      await new Promise((resolve) => setImmediate(resolve));
      const slow = get(agent, '/slow');
      await new Promise((resolve) => server!.once('request', resolve));
      const second = get(agent, '/slow2');
      // Settled below once released; marked handled so a failed expectation reports only itself.
      for (const p of [slow, second]) p.catch(() => {});

      // The graph behind the socket is big and holds the key: what the agent must not expose.
      expect(channels.length).toBeGreaterThan(0);
      const raw = inspect(channels[0], MODEM_INSPECT);
      expect(raw).toContain(KEY_MATERIAL);

      const text = inspect({ method: 'GET', path: '/containers/json', headers: {}, agent }, MODEM_INSPECT);
      expect(text).not.toContain(KEY_MATERIAL);
      expect(text).not.toContain('10.0.0.11');
      expect(text.length).toBeLessThan(400);
      expect(raw.length).toBeGreaterThan(10 * text.length);
      expect(text).toMatch(/EngineAgent \{ streams in use: [12], idle: [01], waiting requests: [01], max: 4 \}/);
      expect(inspect(agent, MODEM_INSPECT).length).toBeLessThan(200);

      release();
      (await slow).resume();
      (await second).resume();
    } finally {
      agent.destroy();
      for (const c of channels) c.destroy();
    }
  });
});
