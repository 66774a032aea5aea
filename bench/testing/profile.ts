// Profiler (not a test): where gangway/testing's start-to-ready time goes compared with the bare
// Engine API. Every Engine API call of both contenders is timed inside this process (dial to
// response headers), on the same engine and image, contenders interleaved.
//   Run: npx tsx bench/testing/profile.ts   (PROFILE_RUNS=10)
import { request } from 'node:http';
import Docker from 'dockerode';
import { cachedImageTag, container, setup, wait } from '../../src/testing/index.js';
import { httpdContext } from '../../examples/testing/images.js';

const RUNS = Number(process.env.PROFILE_RUNS ?? 10);
const LABELS = { 'gangway.bench': 'testing-profile' };

interface Call { what: string; startMs: number; endMs: number }
let calls: Call[] = [];
let t0 = 0;

function instrumented(): Docker {
  const docker = new Docker();
  const modem = docker.modem as unknown as { dial: (o: { method: string; path: string }, cb: (err: unknown, data: unknown) => void) => void };
  const dial = modem.dial.bind(modem);
  modem.dial = (o, cb) => {
    const call: Call = { what: `${o.method} ${o.path.replace(/[?].*$/, '').replace(/[0-9a-f]{64}/, '<id>')}`, startMs: performance.now() - t0, endMs: NaN };
    calls.push(call);
    dial(o, (err, data) => { call.endMs = performance.now() - t0; cb(err, data); });
  };
  return docker;
}

function status(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };

async function main(): Promise<void> {
  const docker = instrumented();
  const def = container('profile-httpd', { image: { build: httpdContext(), name: 'example-httpd' }, ports: [8080], labels: LABELS, wait: wait.forHttp('/') });
  await (await setup(def.with({ wait: undefined }), { docker, sweepStale: false })).teardown();
  const tag = (await cachedImageTag(def.options.image as { build: string; name?: string }, def.name)).tag;

  const contenders: Record<string, () => Promise<() => Promise<void>>> = {
    bare: async () => {
      const c = await docker.createContainer({ Image: tag, Labels: LABELS, ExposedPorts: { '8080/tcp': {} }, HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } } });
      await c.start();
      const port = Number((await c.inspect()).NetworkSettings.Ports['8080/tcp']![0]!.HostPort);
      let probes = 0;
      while ((probes++, await status(port)) !== 200) await new Promise((r) => setTimeout(r, 10));
      calls.push({ what: `(${probes} probes)`, startMs: performance.now() - t0, endMs: performance.now() - t0 });
      return async () => { await c.remove({ force: true }); };
    },
    gangway: async () => {
      const env = await setup(def, { docker });
      return async () => { await env.teardown(); };
    },
    // As the benchmark calls it: the library makes its own Docker client.
    'gangway (own client)': async () => {
      const env = await setup(def);
      return async () => { await env.teardown(); };
    },
  };
  const names = Object.keys(contenders);
  const ready: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const traces: Record<string, Call[][]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = -1; i < RUNS; i++) {
    const shift = ((i % names.length) + names.length) % names.length;
    const order = [...names.slice(shift), ...names.slice(0, shift)];
    for (const name of order) {
      calls = [];
      t0 = performance.now();
      const teardown = await contenders[name]!();
      const readyMs = performance.now() - t0;
      const trace = calls;
      await teardown();
      if (i < 0) continue; // warm-up
      ready[name]!.push(readyMs);
      traces[name]!.push(trace.filter((c) => c.startMs <= readyMs));
    }
  }
  for (const name of Object.keys(ready)) {
    process.stdout.write(`\n== ${name}: ready median ${median(ready[name]!).toFixed(0)} ms (${ready[name]!.map((x) => x.toFixed(0)).join(' ')})\n`);
    // Per call (by position in the trace): median start and end.
    const first = traces[name]![0];
    if (!first) continue;
    first.forEach((c, idx) => {
      const same = traces[name]!.map((t) => t[idx]).filter((x): x is Call => x !== undefined && x.what === c.what);
      process.stdout.write(`  ${c.what.padEnd(48)} start ${median(same.map((x) => x.startMs)).toFixed(1).padStart(7)}  end ${median(same.map((x) => x.endMs)).toFixed(1).padStart(7)}  (n=${same.length})\n`);
    });
  }
}

await main();
