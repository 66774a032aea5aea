// Benchmark (not a test): container start-to-ready and teardown, gangway/testing vs
// testcontainers-node vs the bare Engine API, and a dependency graph: gangway/testing's parallel
// start vs testcontainers with independent containers started together (Promise.all, as its users
// write it) and one by one. Prints what it measured; --record writes it into BENCHMARKS.md.
//   Run: npx tsx bench/testing/run.ts [--record]   (BENCH_RUNS_SINGLE=60, BENCH_RUNS=10)
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { container, network, setup, wait, cachedImageTag, type ContainerDefinition } from '../../src/testing/index.js';
import { httpdContext, proxyContext, slowServiceContext } from '../../examples/testing/images.js';
import { recordSection } from '../record.js';

process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
// Every contender publishes on 127.0.0.1 only. testcontainers would otherwise reach the ports
// through the bridge's gateway when it runs inside a container (/.dockerenv), as on this machine.
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
const { GenericContainer, Network, Wait } = await import('testcontainers');

// (a) is short and its spread is wide (container start varies by +-100 ms on a busy 2-core
// machine), so it gets more rounds than (b): a 5 % target needs a tight median.
const RUNS_SINGLE = Number(process.env.BENCH_RUNS_SINGLE ?? 60);
const RUNS_GRAPH = Number(process.env.BENCH_RUNS ?? 10);
const SERVICE_BOOT_SECONDS = '0.3';
const docker = new Docker();
const LABELS = { 'gangway.bench': 'testing' };

const COMMAND = 'npx tsx bench/testing/run.ts --record';
const TESTCONTAINERS = `testcontainers ${(JSON.parse(readFileSync(fileURLToPath(new URL('../../node_modules/testcontainers/package.json', import.meta.url)), 'utf8')) as { version: string }).version}`;

const median = (xs: number[]) => quantile(xs, 0.5);
/** Linear interpolation between the sorted samples (the median of an even count is the mean of the middle two). */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}

// Builds the images once, through the library's cache, so every contender uses the same tags.
async function imageTag(def: ContainerDefinition): Promise<string> {
  await (await setup(def.with({ wait: undefined }), { sweepStale: false })).teardown();
  return (await cachedImageTag(def.options.image as { build: string; name?: string }, def.name)).tag;
}

function status(port: number, path = '/'): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

// testcontainers publishes on every interface; the network rule here is loopback only.
class LoopbackContainer extends GenericContainer {
  loopbackOnly(): this {
    for (const bindings of Object.values(this.hostConfig.PortBindings ?? {})) for (const b of bindings as Array<{ HostIp?: string }>) b.HostIp = '127.0.0.1';
    return this;
  }
}

interface Sample { readyMs: number; teardownMs: number }

async function measure(fn: () => Promise<() => Promise<void>>): Promise<Sample> {
  const t0 = performance.now();
  const teardown = await fn();
  const t1 = performance.now();
  await teardown();
  return { readyMs: t1 - t0, teardownMs: performance.now() - t1 };
}

async function main(): Promise<void> {
  const httpdDef = container('bench-httpd', { image: { build: httpdContext(), name: 'example-httpd' }, ports: [8080], labels: LABELS, wait: wait.forHttp('/') });
  const serviceDef = container('bench-service', { image: { build: slowServiceContext(), name: 'example-slow-service' }, ports: [8080], labels: LABELS, env: { BOOT_SECONDS: SERVICE_BOOT_SECONDS }, wait: wait.forHttp('/') });
  const proxyDef = container('bench-proxy', { image: { build: proxyContext(), name: 'example-proxy' }, ports: [8080], labels: LABELS, env: { UPSTREAM: 'app:8080' }, wait: wait.forHttp('/') });
  const httpdTag = await imageTag(httpdDef);
  const serviceTag = await imageTag(serviceDef);
  const proxyTag = await imageTag(proxyDef.with({ env: { UPSTREAM: '127.0.0.1:1' } }));

  // How long the bare baseline's `POST /containers/{id}/start` took, per call (the first is the warm-up's).
  const bareStartMs: number[] = [];
  const single = {
    'bare Engine API': async () => {
      const c = await docker.createContainer({ Image: httpdTag, Labels: LABELS, ExposedPorts: { '8080/tcp': {} }, HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } } });
      const s = performance.now();
      await c.start();
      bareStartMs.push(performance.now() - s);
      const port = Number((await c.inspect()).NetworkSettings.Ports['8080/tcp']![0]!.HostPort);
      while ((await status(port)) !== 200) await new Promise((r) => setTimeout(r, 10));
      return async () => { await c.remove({ force: true }); };
    },
    [TESTCONTAINERS]: async () => {
      const started = await new LoopbackContainer(httpdTag).withExposedPorts(8080).withLabels(LABELS).loopbackOnly().withWaitStrategy(Wait.forHttp('/', 8080)).start();
      return async () => { await started.stop(); };
    },
    'gangway/testing': async () => {
      const env = await setup(httpdDef);
      return async () => { await env.teardown(); };
    },
  };

  // (b) app needs two independent services (each boots in 0.3 s), a proxy in front.
  const net = network('bench');
  const svcA = serviceDef.with({ name: 'svc-a', ports: [], networks: [net], wait: wait.forPort(8080) });
  const svcB = svcA.with({ name: 'svc-b' });
  const appDef = httpdDef.with({ name: 'app', ports: [8080], networks: [net], dependsOn: [svcA, svcB], wait: wait.forHttp('/') });
  const proxyNode = proxyDef.with({ name: 'proxy', networks: [net], dependsOn: [appDef] });
  // testcontainers, as its users write it: a network, then each container built and awaited. The
  // services publish their port (on 127.0.0.1 only here), as Wait.forListeningPorts (its default
  // wait) needs.
  const tcGraph = (together: boolean) => async () => {
    const n = await new Network().start();
    const svc = (alias: string) => new LoopbackContainer(serviceTag).withNetwork(n).withNetworkAliases(alias).withEnvironment({ BOOT_SECONDS: SERVICE_BOOT_SECONDS }).withLabels(LABELS).withWaitStrategy(Wait.forListeningPorts()).withExposedPorts(8080).loopbackOnly();
    // The two services do not depend on each other: started together, or one after the other.
    const [a, b] = together ? await Promise.all([svc('svc-a').start(), svc('svc-b').start()]) : [await svc('svc-a').start(), await svc('svc-b').start()];
    const app = await new LoopbackContainer(httpdTag).withNetwork(n).withNetworkAliases('app').withLabels(LABELS).withExposedPorts(8080).loopbackOnly().withWaitStrategy(Wait.forHttp('/', 8080)).start();
    const px = await new LoopbackContainer(proxyTag).withNetwork(n).withEnvironment({ UPSTREAM: 'app:8080' }).withLabels(LABELS).withExposedPorts(8080).loopbackOnly().withWaitStrategy(Wait.forHttp('/', 8080)).start();
    return async () => {
      if (together) await Promise.all([px, app, b, a].map((c) => c.stop()));
      else for (const c of [px, app, b, a]) await c.stop();
      await n.stop();
    };
  };
  const TC_TOGETHER = `${TESTCONTAINERS}, services started together (Promise.all)`;
  const graph = {
    [TC_TOGETHER]: tcGraph(true),
    [`${TESTCONTAINERS}, one by one`]: tcGraph(false),
    'gangway/testing (graph started in parallel)': async () => {
      const env = await setup(proxyNode);
      return async () => { await env.teardown(); };
    },
  };

  const rows: string[] = [];
  const runCase = async (group: string, cases: Record<string, () => Promise<() => Promise<void>>>, baseline: string, runs: number): Promise<Record<string, Sample[]>> => {
    const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    // Warm-up of every contender, not counted: the first run of each pays one-time costs (module
    // loading, the library's once-per-process stale sweep, testcontainers' client setup).
    for (const fn of Object.values(cases)) await measure(fn);
    for (let i = 0; i < runs; i++) {
      // Interleaved, and the order rotated every round: a slow moment of the shared machine, or
      // the engine still cleaning up after the previous contender, hits every contender alike.
      const entries = Object.entries(cases);
      const rotated = [...entries.slice(i % entries.length), ...entries.slice(0, i % entries.length)];
      for (const [name, fn] of rotated) samples[name]!.push(await measure(fn));
    }
    const base = median(samples[baseline]!.map((s) => s.readyMs));
    for (const [name, list] of Object.entries(samples)) {
      const ready = median(list.map((s) => s.readyMs));
      const down = median(list.map((s) => s.teardownMs));
      // Paired: each round's ratio to the baseline of the same round, so a slow moment of the
      // machine cancels out instead of landing on whichever contender ran then; its quartiles
      // show how much one round's ratio moves.
      const ratios = list.map((s, i) => s.readyMs / samples[baseline]![i]!.readyMs);
      const spread = name === baseline ? '-' : `${quantile(ratios, 0.25).toFixed(2)} - ${quantile(ratios, 0.75).toFixed(2)}`;
      rows.push(`| ${group} | ${name}${name === baseline ? ' (baseline)' : ''} | ${runs} | ${ready.toFixed(0)} | ${down.toFixed(0)} | ${(ready / base).toFixed(2)} x | ${median(ratios).toFixed(2)} x | ${spread} |`);
    }
    return samples;
  };
  const singleSamples = await runCase('(a) one HTTP container', single, 'bare Engine API', RUNS_SINGLE);
  await runCase('(b) proxy -> app -> 2 services', graph, TC_TOGETHER, RUNS_GRAPH);

  // The bare baseline's start call against its start-to-ready, round by round (the warm-up's dropped).
  const starts = bareStartMs.slice(1);
  const shares = singleSamples['bare Engine API']!.map((s, i) => starts[i]! / s.readyMs);
  const engine = (await docker.version()).Version;
  const body = [
    `Measured ${new Date().toISOString()}, Node ${process.version}, Docker Engine ${engine}, ${cpus().length} cores; load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}.`,
    `Rounds: BENCH_RUNS_SINGLE=${RUNS_SINGLE} for (a), BENCH_RUNS=${RUNS_GRAPH} for (b). All contenders use the same locally built images (busybox httpd, HAProxy 2.6 FROM scratch),`,
    'publish on 127.0.0.1, and wait for the same readiness: the first HTTP 200 on `/` (services in (b): the TCP port listening; testcontainers\' Wait.forListeningPorts).',
    `${TESTCONTAINERS} runs with TESTCONTAINERS_RYUK_DISABLED=true and TESTCONTAINERS_HOST_OVERRIDE=${process.env.TESTCONTAINERS_HOST_OVERRIDE}. In (b) the app needs two independent services, each taking ${SERVICE_BOOT_SECONDS} s to boot (\`sleep\`, like a`,
    'database warming up), and a proxy in front of the app. Baselines: (a) the bare Engine API (create + start + poll every 10 ms until the first 200; remove -f);',
    `(b) ${TESTCONTAINERS} with the two services started together (\`Promise.all\`), then the app, then the proxy, and stopped together; the same one by one is shown too.`,
    'Every contender gets one uncounted warm-up; rounds are interleaved with the order rotated each round.',
    '',
    '| case | contender | runs | start-to-ready ms (median) | teardown ms (median) | ready vs baseline (ratio of medians) | ready vs baseline (median of per-round ratios) | per-round ratio, quartiles |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `In (a), the bare baseline's \`POST /containers/{id}/start\` took a median ${median(starts).toFixed(0)} ms (quartiles ${quantile(starts, 0.25).toFixed(0)} - ${quantile(starts, 0.75).toFixed(0)} ms), ${(100 * median(shares)).toFixed(0)} % of its start-to-ready (median of per-round shares).`,
    '`npx tsx bench/testing/profile.ts` prints the same breakdown for every Engine API call of gangway/testing and of the bare baseline.',
  ].join('\n');
  process.stdout.write(`${body}\n`);
  if (process.argv.includes('--record')) recordSection('bench/testing', 'gangway/testing: container start-to-ready and teardown', COMMAND, body);
}

await main();
