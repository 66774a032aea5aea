// The bare baseline of bench/scale: the work a zero-downtime deploy cannot skip, done on every
// host at once straight through the Engine API (over the same one-SSH-connection transport) and
// the proxy's runtime API, with none of gangway's bookkeeping (no lock, audit, labels, plan,
// observe, events, hooks, undo, prune). Per host: pull, start the new container, add it to the
// proxy and wait for the proxy's check, run the app's uptests (both in one container in the new
// container's network namespace, as gangway runs them: the same work, not more), switch; once
// every host switched:
// wait for the old server to drain, remove it from the proxy, stop the old container.
import type Docker from 'dockerode';
import { stopContainer } from '../../src/app/container.js';
import { pullImage } from '../../src/docker/images.js';
import { randomBytes } from 'node:crypto';
import { combinedLogText } from '../../src/docker/logs.js';
import { RunnerLog, runnerContainerSpec } from '../../src/gates/uptest-runner.js';
import { uptestsDir } from '../../src/gates/uptests.js';
import type { Host, HostStats } from '../../src/hosts/host.js';
import { addCandidateBeforeSync, removeServer, switchTo } from '../../src/proxy/runtime-operations.js';
import { waitDrained, waitHealthy } from '../../src/proxy/waits.js';
import type { SandboxInfo } from '../../src/sandbox/index.js';
import { BENCH_LABELS, liveServer, openHosts, proxyTargetOf, startContainer } from '../zero-downtime/baselines.js';

/** The example app's web uptests: a straight-line script knows its own app's. */
export const BARE_UPTESTS = ['01-up', '02-version'];
const UPTEST_DIR = uptestsDir(undefined, 'uptests', 'web');
const HEALTHY_WITHIN_MS = 120_000;
const DRAIN_WITHIN_MS = 5000;
const STOP_GRACE_MS = 10_000;

export interface BareDeploy {
  /** From the first connection until every host switched. */
  timeToLiveMs: number;
  /** Until every old container stopped and the connections closed. */
  totalMs: number;
  stats: Map<string, HostStats>;
  /** When each step ended on each host, ms from the first connection: where the baseline's time went. */
  steps: BareStep[];
}

export interface BareStep { host: string; step: string; endMs: number }

/** Marks each step's end on one host, on the deploy's clock. */
type Mark = (step: string) => void;

async function runUptests(docker: Docker, image: string, target: string): Promise<void> {
  const name = `${target}-uptests`;
  const marker = `bare-${randomBytes(6).toString('hex')}`;
  const spec = runnerContainerSpec({ name, image, dir: UPTEST_DIR, names: BARE_UPTESTS, marker, timeoutMs: 60_000, parallel: true, targetName: target, appPort: 80, network: 'gangway', sharesNetworkOf: target, env: { MODE: 'bench' }, labels: BENCH_LABELS });
  const c = await docker.createContainer(spec);
  try {
    await c.start();
    await c.wait();
    const log = new RunnerLog(marker, BARE_UPTESTS);
    const text = combinedLogText((await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer);
    for (const line of text.split('\n')) log.accept(line, 0);
    const failed = BARE_UPTESTS.filter((_, i) => !log.result(i, { timeoutMs: 60_000, stop: 'finished', now: 0, maxOutputBytes: 4096 }).passed);
    if (failed.length > 0) throw new Error(`uptests ${failed.join(', ')} of ${target} failed`);
  } finally {
    await c.remove({ force: true }).catch(() => {});
  }
}

/** Up to the switch on one host; returns the server that served before. */
async function bootAndSwitch(host: Host, image: string, name: string, mark: Mark): Promise<string> {
  const t = proxyTargetOf(host);
  const previous = await liveServer(t);
  const docker = await host.docker();
  await pullImage(docker, image);
  mark('pull');
  await startContainer(host, image, name);
  mark('start');
  // The proxy's file written while it checks the server, as gangway's gate does.
  const { fileSync } = await addCandidateBeforeSync(t, { name });
  await Promise.all([waitHealthy(t, name, HEALTHY_WITHIN_MS), fileSync]);
  mark('health');
  await runUptests(docker, image, name);
  mark('uptests');
  await switchTo(t, name, [previous]);
  mark('switch');
  return previous;
}

async function retire(host: Host, previous: string, mark: Mark): Promise<void> {
  const t = proxyTargetOf(host);
  await waitDrained(t, previous, DRAIN_WITHIN_MS);
  mark('drain');
  await removeServer(t, previous);
  await stopContainer(host, previous, STOP_GRACE_MS);
  mark('stop');
}

/** The bare deploy of `image` (as container `name`) on the named sandbox hosts, all at once. */
export async function bareDeploy(info: SandboxInfo, names: string[], image: string, name: string): Promise<BareDeploy> {
  const t0 = performance.now();
  const steps: BareStep[] = [];
  const markOn = (host: Host): Mark => (step) => { steps.push({ host: host.name, step, endMs: Math.round(performance.now() - t0) }); };
  const hosts = await openHosts(info, names);
  for (const h of hosts) markOn(h)('connect');
  try {
    const previous = await Promise.all(hosts.map((h) => bootAndSwitch(h, image, name, markOn(h))));
    const liveAt = performance.now();
    await Promise.all(hosts.map((h, i) => retire(h, previous[i]!, markOn(h))));
    const stats = new Map(hosts.map((h) => [h.name, h.stats()]));
    await Promise.all(hosts.map((h) => h.close()));
    return { timeToLiveMs: liveAt - t0, totalMs: performance.now() - t0, stats, steps };
  } finally {
    await Promise.all(hosts.map((h) => h.close().catch(() => {})));
  }
}
