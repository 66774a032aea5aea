// Calibration (not part of the table): the same load with no operation running, at a few mixes,
// to tell the machine's capacity apart from what a deploy does.
// Run: npx tsx bench/zero-downtime/calibrate.ts [rate ...]   (req/s per web host; default 320 360)
import { Events } from '../../src/events/events.js';
import { waitServed } from './baselines.js';
import { gangway } from './cli.js';
import { DEFAULT_LOAD, percentile, startLoad, type LoadTarget } from './load.js';
import { mergeCounts, minRatePerHost } from './report.js';
import { benchSandboxDown, benchSandboxUp, pushHelloVersion, writeBenchProject } from './sandbox.js';

const events = new Events();
try {
  const bench = await benchSandboxUp(events);
  await pushHelloVersion(bench.info, '1.0.0', 'ok');
  const project = writeBenchProject(bench);
  const setup = await gangway(['setup', '--version', '1.0.0'], project, 180_000);
  if (setup.code !== 0) throw new Error(`setup failed: ${setup.stderr}`);
  const targets: LoadTarget[] = ['vm1', 'vm2'].map((name) => ({ name, port: bench.info.hosts.find((h) => h.name === name)!.httpPort }));
  await Promise.all(targets.map((t) => waitServed(t.port, '1.0.0', 10_000)));
  const asked = process.argv.slice(2).map(Number).filter((n) => n > 0);
  for (const rate of asked.length > 0 ? asked : [320, 360]) {
    const load = startLoad(targets, { ...DEFAULT_LOAD, ratePerHost: rate });
    await new Promise((r) => setTimeout(r, 6000));
    const res = await load.stop();
    const c = mergeCounts(res);
    console.log(`rate ${rate}/host: achieved min ${minRatePerHost(res).toFixed(0)}/host, p50 ${percentile(c.latenciesMs, 50).toFixed(0)} ms, p99 ${percentile(c.latenciesMs, 99).toFixed(0)} ms, failed ${c.non2xx + c.socketErrors + c.badBody}, load ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim()}`);
  }
} finally {
  await benchSandboxDown(events);
}
