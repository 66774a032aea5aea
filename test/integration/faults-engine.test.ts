// Issue 5, scenario 4 and item 7: the host's engine restarting while the host stays up (dockerd
// killed on vm1; the sandbox host's entrypoint runs it under a restart loop, as systemd would),
// at rest and during a deploy; and a registry that accepts connections but never answers (a
// busybox `nc` on the sandbox network under a name the hosts' engines trust over plain HTTP).
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SANDBOX_FAULT_REGISTRY_NAME } from '../../src/sandbox/images/host.js';
import { gangway, onHost, resetHosts, writeProject } from './helpers/deploy.js';
import { convergedOn, eventTrail, failuresBeyondRestart, faultProject, hostTruth, type HostTruth, isStep, parseEvents, quickSsh, ENGINE_RESTART_FAILURE, settledTruth, startGangway, statusFrom, underFaultLoad, waitServing as waitServingOn } from './helpers/faults.js';

const info = inject('sandbox');
const REPO = 'faults-engine/hello';
const docker = new Docker();
let project: string;
const run = (args: string[], timeoutMs = 150_000) => gangway(args, { cwd: project, timeoutMs });
const measured: string[] = [];
const waitServing = (host: string, version: string | undefined, sinceMs: number, maxMs: number) => waitServingOn(info, host, version, sinceMs, maxMs);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Ends the host's engine; the entrypoint's loop starts a new one a second later. TERM is an
 * orderly restart (`systemctl restart docker`, an upgrade): dockerd stops its containers first.
 * KILL is a crash: its containerd dies with it, the containers' processes with them.
 */
const killEngine = (host: string, signal: 'TERM' | 'KILL') => onHost(info, host, `pkill -${signal} -x dockerd && echo killed`);

/** Until the engine answers and every gangway container on the host runs again (ms since sinceMs), or maxMs. */
async function waitContainersBack(host: string, names: string[], sinceMs: number, maxMs = 45_000): Promise<number | undefined> {
  while (Date.now() - sinceMs < maxMs) {
    const running = (await onHost(info, host, "docker ps --format '{{.Names}}' 2>/dev/null").catch(() => '')).split('\n');
    if (names.every((n) => running.includes(n))) return Date.now() - sinceMs;
    await sleep(200);
  }
  return undefined;
}

/** The proxy's server lines in its config file on the host (what a restarted proxy loads). */
const proxyServers = async (host: string): Promise<string[]> =>
  (await onHost(info, host, 'cat /var/lib/gangway/proxy/haproxy.cfg')).split('\n').map((l) => l.trim()).filter((l) => l.startsWith('server ')).sort();

/** name -> address on its networks of every running gangway container of a host. */
const addresses = async (host: string): Promise<Record<string, string>> =>
  Object.fromEntries(
    (await onHost(info, host, "docker inspect --format '{{.Name}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' $(docker ps -q --filter label=gangway.managed)"))
      .split('\n').filter(Boolean).map((l) => l.replace(/^\//, '').split(' ') as [string, string]),
  );

/** Each host runs at most one version per role (what an interrupted deploy must leave). */
const atMostOneVersion = (truth: HostTruth[]): string[] =>
  truth.flatMap((t) => Object.entries(t.runningByRole).filter(([, names]) => names.length > 1).map(([role, names]) => `${t.host} ${role} runs ${names.join(', ')}`));

describe('the engine restarts, and a registry that never answers', () => {
  beforeAll(async () => {
    project = await faultProject(info, { repo: REPO, versions: ['1.0.0', '2.0.0', '3.0.0', '4.0.0', '5.0.0'], extra: { ssh: quickSsh(info) } });
  }, 600_000);

  afterAll(async () => {
    if (measured.length > 0) console.info(`faults-engine measurements:\n${measured.join('\n')}`);
    await resetHosts(info);
  });

  it('the engine on vm1 restarts (SIGTERM) at rest: app and proxy come back, the proxy finds the app wherever it is, the next deploy converges', async () => {
    const servers = await proxyServers('vm1');
    const addressesBefore = await addresses('vm1');
    let containersBackMs: number | undefined;
    let servingMs: number | undefined;
    let t0 = 0;
    // Both web hosts loaded: vm2 must lose nothing, vm1 only what its engine's restart cut.
    const { load } = await underFaultLoad(info, 90_000, async () => {
      await sleep(1500);
      t0 = Date.now();
      expect(await killEngine('vm1', 'TERM')).toContain('killed');
      containersBackMs = await waitContainersBack('vm1', ['gangway-proxy', 'hello-web-1.0.0'], t0);
      servingMs = await waitServing('vm1', '1.0.0', t0, 25_000);
      await sleep(1500);
    });
    // The engine's restart policy brought both back, and the proxy loaded the same config.
    expect(containersBackMs).toBeDefined();
    expect(await proxyServers('vm1')).toEqual(servers);
    const now = await addresses('vm1');
    const moved = Object.entries(addressesBefore).filter(([name, ip]) => now[name] !== ip).map(([name, ip]) => `${name} ${ip} -> ${now[name]}`);
    // The routes name containers, resolved through the engine's DNS: wherever the restart put the
    // app, the proxy serves it again, and status says what is served.
    expect(servingMs, `not serving 1.0.0 after the restart; addresses moved: ${moved.join(', ') || 'none'}`).toBeDefined();
    expect(failuresBeyondRestart(load, 'vm1', { from: t0, until: t0 + servingMs! }, ENGINE_RESTART_FAILURE)).toEqual([]);
    const status = statusFrom(await run(['status', '--json']));
    const vm1Row = status.rows.find((r) => r.host === 'vm1')!;
    expect(vm1Row.liveVersion, status.output).toBe('1.0.0');
    expect(vm1Row.health, status.output).toBe('up');
    const next = await run(['deploy', '--version', '2.0.0']);
    measured.push(`| engine on vm1 restarted (SIGTERM to dockerd), at rest | ${load.byHost.vm1!.requests} (vm1), ${load.byHost.vm2!.requests} (vm2) | ${load.byHost.vm1!.failed}, ${load.byHost.vm2!.failed} | containers running again after ${containersBackMs === undefined ? '-' : (containersBackMs / 1000).toFixed(1)} s; ${servingMs === undefined ? 'NOT serving 1.0.0 within 25 s' : `serving again after ${(servingMs / 1000).toFixed(1)} s`}; app addresses moved: ${moved.join(', ') || 'none'}; status said vm1 live ${vm1Row.liveVersion ?? '(nothing)'}; next deploy exit ${next.code}; ${load.failures.join('; ') || '-'} |`);
    expect(next.code, next.output).toBe(0);
    expect(convergedOn(await settledTruth(info), '2.0.0')).toEqual([]);
  });

  it('the engine on vm1 crashes (SIGKILL) at rest: the live version and the proxy come back by themselves, the retired one stays stopped', async () => {
    const servers = await proxyServers('vm1');
    let servingMs: number | undefined;
    let engineBackMs: number | undefined;
    let containersBackMs: number | undefined;
    let t0 = 0;
    const { load } = await underFaultLoad(info, 90_000, async () => {
      await sleep(1500);
      t0 = Date.now();
      expect(await killEngine('vm1', 'KILL')).toContain('killed');
      // Until the new engine answers: the old one's containers may serve a moment longer.
      for (let i = 0; i < 150 && !(await onHost(info, 'vm1', 'docker info >/dev/null 2>&1 && echo up').catch(() => '')).includes('up'); i++) await sleep(200);
      engineBackMs = Date.now() - t0;
      containersBackMs = await waitContainersBack('vm1', ['gangway-proxy', 'hello-web-2.0.0'], t0);
      servingMs = await waitServing('vm1', '2.0.0', t0, 30_000);
      await sleep(2000);
    });
    const truth = await settledTruth(info);
    const vm1 = truth.find((t) => t.host === 'vm1')!;
    const states = (await onHost(info, 'vm1', "docker ps -a --filter label=gangway.managed --format '{{.Names}}: {{.Status}}'")).trim().split('\n').join(', ');
    expect(await proxyServers('vm1')).toEqual(servers);
    // Restart policy `always` on what serves, `no` on what gangway retired: a crash of dockerd
    // (which Docker 20.10 records as a stop by hand) brings back exactly the live set.
    expect(servingMs, `vm1 not serving 2.0.0 30 s after the crash: ${states}`).toBeDefined();
    expect(failuresBeyondRestart(load, 'vm1', { from: t0, until: t0 + servingMs! }, ENGINE_RESTART_FAILURE)).toEqual([]);
    expect(vm1.runningByRole.web, states).toEqual(['hello-web-2.0.0']);
    const status = statusFrom(await run(['status', '--json']));
    const vm1Row = status.rows.find((r) => r.host === 'vm1')!;
    expect(vm1Row.liveVersion, status.output).toBe('2.0.0');
    const next = await run(['deploy', '--version', '3.0.0']);
    measured.push(`| engine on vm1 crashed (SIGKILL to dockerd), at rest | ${load.byHost.vm1!.requests} (vm1), ${load.byHost.vm2!.requests} (vm2) | ${load.byHost.vm1!.failed}, ${load.byHost.vm2!.failed} | engine answering after ${(engineBackMs! / 1000).toFixed(1)} s, containers running after ${containersBackMs === undefined ? '-' : (containersBackMs / 1000).toFixed(1)} s, serving 2.0.0 after ${(servingMs! / 1000).toFixed(1)} s (${states}); status said vm1 live ${vm1Row.liveVersion ?? '(nothing)'}; next deploy exit ${next.code}; ${load.failures.join('; ') || '-'} |`);
    expect(next.code, next.output).toBe(0);
    expect(convergedOn(await settledTruth(info), '3.0.0')).toEqual([]);
  });

  it('the engine on vm1 restarts (SIGTERM) right after the new container started: at most one version per host, the next deploy converges', async () => {
    const liveBefore = (await hostTruth(info, 'vm2')).served![0]!;
    const t0 = Date.now();
    let killedAt = 0;
    let endedAt = 0;
    let servingMs: number | undefined;
    const { result, load } = await underFaultLoad(info, 180_000, async () => {
      const cli = startGangway(['deploy', '--version', '4.0.0'], { cwd: project, timeoutMs: 150_000 });
      await cli.waitFor(isStep('start', 'done', 'vm1'), 'the new container on vm1');
      killedAt = Date.now();
      expect(await killEngine('vm1', 'TERM')).toContain('killed');
      servingMs = await waitServing('vm1', undefined, killedAt, 60_000);
      const r = await cli.result;
      endedAt = Date.now();
      return r;
    });
    const tookMs = Date.now() - t0;
    // vm2 (undone, or switched) loses nothing; vm1 only what its engine's restart cut, until the
    // deploy that met it ended (its undo or switch on vm1 waits for the engine and proxy to settle).
    expect(servingMs, 'vm1 did not serve again within 60 s of its engine restart').toBeDefined();
    expect(failuresBeyondRestart(load, 'vm1', { from: killedAt, until: Math.max(killedAt + servingMs!, endedAt) }, ENGINE_RESTART_FAILURE)).toEqual([]);
    // What the host runs once its engine is back and its restart policies have acted.
    await waitContainersBack('vm1', ['gangway-proxy'], Date.now());
    await sleep(3000);
    const events = parseEvents(result.stdout);
    const done = events.find((e) => e.type === 'done') as { message: string } | undefined;
    const summary = done?.message ?? result.stderr.trim().split('\n')[0] ?? '';
    const truth = await settledTruth(info, 40_000);
    const vm1 = truth.find((t) => t.host === 'vm1')!;
    measured.push(`| engine on vm1 restarted (SIGTERM) after its new container started | ${load.byHost.vm1!.requests} (vm1), ${load.byHost.vm2!.requests} (vm2) | ${load.byHost.vm1!.failed}, ${load.byHost.vm2!.failed} | exit ${result.code} after ${(tookMs / 1000).toFixed(1)} s: ${summary.slice(0, 300)}; vm1 then runs ${JSON.stringify(vm1.runningByRole.web ?? [])}, serves ${JSON.stringify(vm1.served)}; ${load.failures.join('; ') || '-'} |`);
    // The undo waits out the engine restart: no host is left with an unrouted second version.
    expect(atMostOneVersion(truth), `${result.output.slice(-3000)}`).toEqual([]);
    // Either outcome is right, and each is asserted whole: the deploy fails naming vm1 and every
    // host is back on the old version, or (an engine back before the gate ended, the new
    // container restarted by its policy) it passes its gates and every host is on the new one.
    expect([0, 1], result.output.slice(-4000)).toContain(result.code);
    if (result.code === 1) {
      expect(summary, `${result.output.slice(-4000)}\n${eventTrail(events)}`).toMatch(/vm1/);
      for (const h of ['vm1', 'vm2', 'vm3']) expect(Object.values(truth.find((t) => t.host === h)!.runningByRole).flat().every((n) => n.endsWith(`-${liveBefore}`)), JSON.stringify(truth)).toBe(true);
    } else {
      expect(convergedOn(truth, '4.0.0'), result.output.slice(-4000)).toEqual([]);
    }
    expect((await run(['lock', 'status'])).output).toContain('free');

    const next = await run(['deploy', '--version', '5.0.0']);
    expect(next.code, next.output).toBe(0);
    expect(convergedOn(await settledTruth(info), '5.0.0'), next.output).toEqual([]);
  });

  it('a registry that accepts connections and never answers: the pull ends at pull_timeout naming it, the old version keeps serving', async () => {
    // The stand-in registry: every connection accepted, held open, never answered.
    const hung = await docker.createContainer({
      Image: info.images.busybox,
      name: `gangway-sandbox-${info.id}-faulty-registry`,
      Entrypoint: ['/bin/busybox'],
      Cmd: ['nc', '-ll', '-p', '5000', '-e', '/bin/busybox', 'sleep', '3600'],
      Labels: { 'gangway.sandbox': info.id, 'gangway.test': 'faults-engine' },
      HostConfig: { AutoRemove: false },
      NetworkingConfig: { EndpointsConfig: { [info.network]: { Aliases: [SANDBOX_FAULT_REGISTRY_NAME.split(':')[0]!] } } },
    });
    await hung.start();
    try {
      const before = await settledTruth(info);
      const hungProject = writeProject(info, {
        repo: REPO,
        extra: {
          image: `${SANDBOX_FAULT_REGISTRY_NAME}/${REPO}`,
          registry: { server: SANDBOX_FAULT_REGISTRY_NAME },
          ssh: { user: 'root', identity: info.keyPath, known_hosts: info.knownHostsPath, connect_timeout: '3s', config: false },
          pull_timeout: '6s',
        },
      });
      const t0 = Date.now();
      const { result: r, load } = await underFaultLoad(info, 120_000, () => gangway(['deploy', '--version', '4.0.0'], { cwd: hungProject, timeoutMs: 100_000 }));
      const tookMs = Date.now() - t0;
      expect(r.code, r.output).toBe(1);
      expect(r.output).toMatch(/faulty-registry:5000/);
      expect(r.output).toMatch(/did not answer the pull within 6 s \(pull_timeout\)/);
      expect(r.output).toMatch(/nothing was changed/);
      expect(tookMs).toBeLessThan(40_000);
      expect(await settledTruth(info)).toEqual(before);
      expect(load.failures).toEqual([]);
      measured.push(`| registry accepts and never answers (pull_timeout 6s) | ${load.requests} | ${load.failed} | failed after ${(tookMs / 1000).toFixed(1)} s: ${r.output.split('\n').find((l) => /pull_timeout/.test(l))?.trim()} |`);
    } finally {
      await hung.remove({ force: true });
    }
  });
});
