// Benchmark (not a test): what a reload of HAProxy costs keep-alive clients, on this machine's own
// 2.6 binary (no sandbox, no container), under the zero-downtime bench's open-loop load. Each
// variant runs RELOADS reloads through the master CLI and counts failed requests:
//   plain    - reload only (what a bare SIGUSR2 does)
//   spread   - `close-spread-time 5s` in global
//   closing  - gangway's way: closing.map's key set over the runtime API, WAIT_MS, then reload
// Run: npx tsx bench/proxy-restart/reload-local.ts [plain|spread|closing ...]   (RELOADS=30 WAIT_MS=1000 RATE=300)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HAPROXY_BINARY } from '../../src/sandbox/images/haproxy.js';
import { failedOf, startLoad, DEFAULT_LOAD } from '../zero-downtime/load.js';

const RELOADS = Number(process.env.RELOADS ?? 30);
const WAIT_MS = Number(process.env.WAIT_MS ?? 1000);
const RATE = Number(process.env.RATE ?? 300);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One line to a unix socket (the master CLI or the stats socket), its whole answer. */
function cli(socket: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.end(`${line}\n`);
  });
}

/** The answers load.ts expects from the hello app: "hello from <v>" to GET, the body's length to POST. */
async function backend(): Promise<Server> {
  const server = createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => res.end(req.method === 'POST' ? String(n) : 'hello from local\n'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

async function variant(name: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'gangway-reload-local-'));
  const app = await backend();
  // A port the kernel just handed out and that is free again: HAProxy's listener.
  const probe = await backend();
  const front = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const closingMap = join(dir, 'closing.map');
  writeFileSync(closingMap, '');
  writeFileSync(join(dir, 'haproxy.cfg'), [
    'global',
    `  stats socket ${dir}/admin.sock mode 600 level admin expose-fd listeners`,
    '  hard-stop-after 30s',
    ...(name === 'spread' ? ['  close-spread-time 5s'] : []),
    'defaults',
    '  mode http',
    '  timeout connect 5s', '  timeout client 60s', '  timeout server 30s', '  timeout http-keep-alive 60s', '  timeout http-request 10s',
    'frontend f',
    `  bind 127.0.0.1:${front}`,
    '  default_backend b',
    `  http-after-response set-header Connection close if { str(closing),map(${closingMap}) -m found }`,
    'backend b',
    `  server s1 127.0.0.1:${(app.address() as AddressInfo).port}`,
    '',
  ].join('\n'));
  const proc = spawn(HAPROXY_BINARY, ['-W', '-db', '-S', `${dir}/master.sock`, '-f', `${dir}/haproxy.cfg`], { stdio: 'ignore' });
  try {
    await sleep(1000);
    const load = startLoad([{ name: 'local', port: front }], { ...DEFAULT_LOAD, ratePerHost: RATE });
    await sleep(1000);
    for (let i = 0; i < RELOADS; i++) {
      if (name === 'closing') {
        await cli(`${dir}/admin.sock`, `add map ${closingMap} closing on`);
        await sleep(WAIT_MS);
      }
      await cli(`${dir}/master.sock`, 'reload');
      await sleep(1500);
    }
    const c = (await load.stop()).byHost.get('local')!;
    return `| ${name}${name === 'closing' ? ` (${WAIT_MS} ms)` : ''} | ${RELOADS} | ${c.requests} | ${failedOf(c)} | ${[...c.failureKinds].map(([k, n]) => `${k} ×${n}`).join(', ') || '-'} |`;
  } finally {
    proc.kill('SIGTERM');
    app.close();
    await sleep(300);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : ['plain', 'spread', 'closing'];
  const rows: string[] = [];
  for (const n of names) rows.push(await variant(n));
  process.stdout.write([`${RATE} req/s, HAProxy at ${HAPROXY_BINARY}`, '', '| variant | reloads | requests | failed | kinds |', '|---|---:|---:|---:|---|', ...rows, ''].join('\n'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
