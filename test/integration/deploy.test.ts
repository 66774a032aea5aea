// The deploy issue on a 3-host sandbox: web on vm1+vm2 (behind each host's HAProxy), workers on
// vm3. Every assertion about the hosts is read from outside gangway (docker exec into the host
// containers, HTTP through the published proxy ports).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { appContainers, gangway, getThroughProxy, isUp, onHost, pushHello, resetHosts, TEST_SECRET, withLoad, writeProject } from './helpers/deploy.js';
import { expectUnprivilegedProxy, proxyUserCommand } from './helpers/proxy-user.js';
import { liveServers, parseServersState, parseStat } from '../../src/proxy/runtime-parse.js';

const info = inject('sandbox');
const REPO = 'deploy-it/hello';
let project: string;

const run = (args: string[], timeoutMs = 150_000) => gangway(args, { cwd: project, timeoutMs });

/** Uptest containers (running or not) left on any host, as "host name". */
async function uptestContainers(): Promise<string[]> {
  const out = await Promise.all(info.hosts.map(async (h) => (await onHost(info, h.name, "docker ps -a --filter label=gangway.managed=uptest --format '{{.Names}}'")).split('\n').filter(Boolean).map((n) => `${h.name} ${n}`)));
  return out.flat();
}

async function served(host: string): Promise<string> {
  return (await getThroughProxy(info, host)).body;
}

/** The check state of the host's ready hello server as gangway reads it: up (checked), held (check stopped)... */
async function servingHealth(host: string): Promise<string> {
  const ask = (what: string) => onHost(info, host, `echo "${what}" | socat - UNIX-CONNECT:/var/lib/gangway/proxy/admin.sock`);
  const [state, stat] = [parseServersState(await ask('show servers state')), parseStat(await ask('show stat'))];
  const ready = [...new Set(state.map((r) => r.backend))].flatMap((b) => liveServers(b, state, stat)).filter((x) => x.state === 'ready' && x.name.startsWith('hello-web-'));
  return ready.map((x) => x.health).join(', ');
}

type JsonEvent = { type: string; kind?: string; message?: string; data?: Record<string, unknown> };
const jsonEvents = (stdout: string): JsonEvent[] => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonEvent);

describe('deploy on a 3-host sandbox', () => {
  beforeAll(async () => {
    await resetHosts(info);
    for (const [version, variant] of [['1.0.0', 'ok'], ['2.0.0', 'ok'], ['3.0.0', 'broken'], ['4.0.0', 'uptest-fails']] as const) {
      await pushHello(info, REPO, version, variant);
    }
    project = writeProject(info, { repo: REPO });
  }, 300_000);

  afterAll(async () => {
    await resetHosts(info);
  });

  it('sets up fresh hosts and deploys v1: proxies on the web hosts serve it, workers run on vm3', async () => {
    const r = await run(['setup', '--version', '1.0.0']);
    expect(r.code, r.output).toBe(0);
    expect(await served('vm1')).toBe('hello from 1.0.0');
    expect(await served('vm2')).toBe('hello from 1.0.0');
    const vm3 = await appContainers(info, 'vm3');
    expect(isUp(vm3.get('hello-workers-1.0.0'))).toBe(true);
    // The proxy's runtime socket is a unix socket in a host directory, not a TCP port.
    expect(await onHost(info, 'vm1', 'test -S /var/lib/gangway/proxy/admin.sock && echo socket')).toContain('socket');
    // HAProxy runs unprivileged: master and worker as uid 80080 with the host's docker group, and
    // its socket is that uid's and the docker group's only (src/proxy/README.md, "Unprivileged").
    for (const host of ['vm1', 'vm2']) expectUnprivilegedProxy(await onHost(info, host, proxyUserCommand('gangway-proxy', '/var/lib/gangway/proxy/admin.sock')));
  });

  it('deploys v2 with zero failed requests: every web host serves v2, v1 is stopped and retained', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const { result, requests, failures } = await withLoad(info, ['vm1', 'vm2'], 120_000, () => run(['deploy', '--version', '2.0.0']));
    expect(result.code, result.output).toBe(0);
    // The uptests are listed once per role (one probe container from the image, on one host),
    // not once per host: web on vm1 and vm2, workers on vm3, so two probes in all.
    const until = Math.ceil(Date.now() / 1000) + 1;
    const probes = (await Promise.all(info.hosts.map((h) => onHost(info, h.name, `docker events --since ${since} --until ${until} --filter type=container --filter event=create --filter label=gangway.managed=uptest --format '{{.Actor.Attributes.name}}'`))))
      .flatMap((out) => out.split('\n').filter((n) => n.trim() !== '' && !n.includes('-uptest-')));
    expect(probes).toHaveLength(2);
    // Both figures, from the command's start: live (every proxy switched), then the old ones stopped.
    const timing = /deployed 2\.0\.0 on vm1, vm2, vm3 in ([\d.]+)s \(live after ([\d.]+)s\)/.exec(result.output);
    expect(timing, result.output.slice(-2000)).not.toBeNull();
    expect(Number(timing![2])).toBeGreaterThan(0);
    expect(Number(timing![2])).toBeLessThanOrEqual(Number(timing![1]));
    expect(requests).toBeGreaterThan(20);
    expect(failures).toEqual([]);
    for (const host of ['vm1', 'vm2']) {
      expect(await served(host)).toBe('hello from 2.0.0');
      const containers = await appContainers(info, host);
      expect(isUp(containers.get('hello-web-2.0.0'))).toBe(true);
      expect(containers.get('hello-web-1.0.0')).toMatch(/^Exited/);
    }
    const vm3 = await appContainers(info, 'vm3');
    expect(isUp(vm3.get('hello-workers-2.0.0'))).toBe(true);
    expect(vm3.get('hello-workers-1.0.0')).toMatch(/^Exited/);
    expect(await uptestContainers()).toEqual([]);
  });

  it('keeps secrets out of labels and argv, and in a 0600 env file', async () => {
    const labels = await onHost(info, 'vm1', "docker inspect --format '{{json .Config.Labels}}' hello-web-2.0.0");
    expect(labels).not.toContain(TEST_SECRET);
    expect(await onHost(info, 'vm1', 'ps -eo args')).not.toContain(TEST_SECRET);
    expect((await onHost(info, 'vm1', 'stat -c %a /var/lib/gangway/env/hello-web.env')).trim()).toBe('600');
  });

  it('refuses a version whose web container dies at start, as in the seed, and v2 keeps serving', async () => {
    const { result: r, failures } = await withLoad(info, ['vm1', 'vm2'], 120_000, () => run(['deploy', '--version', '3.0.0']));
    expect(r.code).toBe(1);
    expect(r.output).toContain('Waiting for the first healthy web container before booting workers on vm3...');
    // Web boots on vm1 and vm2 at once: whichever dies first stops the deploy (the primary's
    // failure is named as such; vm2's stops the boots before vm1's is seen).
    expect(r.output).toMatch(/First web container is unhealthy on vm1, not booting any other roles|\[vm2 web\] health FAILED container exited with code 1/);
    expect(r.output).toContain('First web container is unhealthy, not booting workers on vm3');
    expect(r.output).toContain('[emerg] unknown directive "bogus" in /etc/hello.conf:3');
    // Never live; the total runs to the end of the command, undo included.
    const total = /not live: the deploy did not complete; ([\d.]+)s in all/.exec(r.output);
    expect(total, r.output.slice(-2000)).not.toBeNull();
    expect(Number(total![1])).toBeGreaterThan(0);
    expect(failures).toEqual([]);
    expect(await served('vm1')).toBe('hello from 2.0.0');
    expect(await served('vm2')).toBe('hello from 2.0.0');
    const vm3 = await appContainers(info, 'vm3');
    expect(isUp(vm3.get('hello-workers-2.0.0'))).toBe(true);
    expect(vm3.has('hello-workers-3.0.0')).toBe(false);
    for (const host of ['vm1', 'vm2']) expect((await appContainers(info, host)).has('hello-web-3.0.0')).toBe(false);
    // Its uptest containers, created while the health gate waited, never started and are gone.
    expect(await uptestContainers()).toEqual([]);
  });

  it('refuses a healthy version that fails an uptest: not switched anywhere, the uptest output shown', async () => {
    const r = await run(['--json', 'deploy', '--version', '4.0.0']);
    expect(r.code).toBe(1);
    // --json: the timing result says it was never live (null), and how long the command took.
    expect(jsonEvents(r.stdout).filter((e) => e.type === 'result' && e.kind === 'timing').map((e) => [e.data?.timeToLiveMs, typeof e.data?.totalMs])).toEqual([[null, 'number']]);
    expect(r.output).toContain('02-version');
    expect(r.output).toContain("GET /version answered 'unknown', expected '4.0.0'");
    expect(r.output).toMatch(/every host is on 2\.0\.0/);
    expect(await served('vm1')).toBe('hello from 2.0.0');
    expect(await served('vm2')).toBe('hello from 2.0.0');
    for (const host of ['vm1', 'vm2', 'vm3']) {
      const containers = await appContainers(info, host);
      expect([...containers.keys()].filter((n) => n.endsWith('-4.0.0'))).toEqual([]);
    }
    expect(await uptestContainers()).toEqual([]);
  });

  it('rolls back to v1 (the previous version) gated like a deploy', async () => {
    const r = await run(['--json', 'rollback']);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain('rolled back to 1.0.0');
    // Live (every host switched) before the total (old versions stopped, command done), both from the command's start.
    const [timing] = jsonEvents(r.stdout).filter((e) => e.type === 'result' && e.kind === 'timing');
    const [live, total] = [Number(timing?.data?.timeToLiveMs), Number(timing?.data?.totalMs)];
    expect(live).toBeGreaterThan(0);
    expect(live).toBeLessThan(total);
    expect(jsonEvents(r.stdout).at(-1)?.message).toMatch(new RegExp(`rolled back to 1\\.0\\.0 on vm1, vm2, vm3 in ${(total / 1000).toFixed(1)}s \\(live after ${(live / 1000).toFixed(1)}s\\)`));
    expect(await served('vm1')).toBe('hello from 1.0.0');
    expect(await served('vm2')).toBe('hello from 1.0.0');
    expect(isUp((await appContainers(info, 'vm3')).get('hello-workers-1.0.0'))).toBe(true);
    const status = await run(['status', '--json']);
    const rows = jsonEvents(status.stdout);
    const web = rows.filter((e) => e.kind === 'status' && e.data?.role === 'web');
    expect(web.map((e) => e.data?.liveVersion)).toEqual(['1.0.0', '1.0.0']);
  });

  it('a second deploy while the first holds the lock exits 3 naming the holder', async () => {
    let release!: () => void;
    const locked = new Promise<void>((r) => { release = r; });
    const first = gangway(['deploy', '--version', '2.0.0', '-m', 'first'], { cwd: project, timeoutMs: 150_000, onOutput: (t) => { if (/\block ok\b/.test(t)) release(); } });
    await locked;
    const second = await run(['deploy', '--version', '2.0.0']);
    expect(second.code).toBe(3);
    expect(second.output).toMatch(/lock of hello is held by .* deploying 2\.0\.0: first/);
    expect((await first).code).toBe(0);
    expect((await run(['lock', 'status'])).output).toContain('free');
  });

  it('a proxy whose certificate files were removed by hand gets them back with the next deploy', async () => {
    // A deploy that found them in place writes only the proxy's files; one that did not, also the
    // certificates (a proxy restarted on a file whose HTTPS bind has no crt-list would not start).
    const certs = '/var/lib/gangway/proxy/certs';
    await onHost(info, 'vm1', `rm ${certs}/crt-list.txt ${certs}/default.pem`);
    const r = await run(['deploy', '--version', '1.0.0']);
    expect(r.code, r.output).toBe(0);
    expect(await onHost(info, 'vm1', `ls ${certs}`)).toMatch(/crt-list\.txt[\s\S]*default\.pem/);
    expect(await onHost(info, 'vm1', `head -1 ${certs}/crt-list.txt`)).toContain('default.pem');
    // And a proxy restarted on those files serves.
    await onHost(info, 'vm1', 'docker restart gangway-proxy >/dev/null');
    let body = '';
    for (let i = 0; i < 50 && body !== 'hello from 1.0.0'; i++) {
      await new Promise((res) => setTimeout(res, 200));
      body = await served('vm1');
    }
    expect(body).toBe('hello from 1.0.0');
    expect((await run(['deploy', '--version', '2.0.0'])).code).toBe(0);
  });

  it('an unknown version fails before anything changes', async () => {
    const before = await Promise.all(['vm1', 'vm2', 'vm3'].map((h) => appContainers(info, h)));
    const r = await run(['deploy', '--version', '9.9.9']);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/registry:5000\/deploy-it\/hello:9\.9\.9 is not available on vm1, vm2, vm3; nothing was changed/);
    const after = await Promise.all(['vm1', 'vm2', 'vm3'].map((h) => appContainers(info, h)));
    expect(after.map((m) => [...m.keys()].sort())).toEqual(before.map((m) => [...m.keys()].sort()));
    expect(await served('vm1')).toBe('hello from 2.0.0');
  });

  it('a version only one host has: its uptests are listed there while the others pull, and the failed pull leaves no probe behind', async () => {
    // 7.7.7 is on vm1 alone (a tag of 2.0.0, never pushed): vm1 has it at once, vm2 and vm3 fail
    // to pull it. The web role's listing starts on vm1 while vm2 still pulls (listWhilePulling).
    await onHost(info, 'vm1', `docker tag registry:5000/${REPO}:2.0.0 registry:5000/${REPO}:7.7.7`);
    // A proxy started again checks the servers it loaded from its file: the deploy holds them
    // (from the claim check's reading) before its pull, so even this deploy, which changes
    // nothing else, leaves vm2's serving server held.
    await onHost(info, 'vm2', 'docker restart gangway-proxy >/dev/null');
    for (let i = 0; i < 50 && (await served('vm2')) !== 'hello from 2.0.0'; i++) await new Promise((r) => setTimeout(r, 200));
    expect(await servingHealth('vm2')).toBe('up');
    try {
      const before = await Promise.all(['vm1', 'vm2', 'vm3'].map((h) => appContainers(info, h)));
      const since = Math.floor(Date.now() / 1000) - 1;
      const r = await run(['deploy', '--version', '7.7.7']);
      const until = Math.ceil(Date.now() / 1000) + 1;
      expect(r.code, r.output).toBe(1);
      expect(r.output).toMatch(/hello:7\.7\.7 is not available on vm2, vm3; nothing was changed/);
      const created = await onHost(info, 'vm1', `docker events --since ${since} --until ${until} --filter type=container --filter event=create --filter label=gangway.managed=uptest --format '{{.Actor.Attributes.image}}'`);
      expect(created.split('\n').filter(Boolean)).toEqual([`registry:5000/${REPO}:7.7.7`]);
      expect(await uptestContainers()).toEqual([]);
      const after = await Promise.all(['vm1', 'vm2', 'vm3'].map((h) => appContainers(info, h)));
      expect(after.map((m) => [...m.keys()].sort())).toEqual(before.map((m) => [...m.keys()].sort()));
      expect(await served('vm1')).toBe('hello from 2.0.0');
      expect(await servingHealth('vm2')).toBe('held');
    } finally {
      await onHost(info, 'vm1', `docker rmi registry:5000/${REPO}:7.7.7 >/dev/null`);
    }
  });

  it('a host that is down before the deploy starts: named, and nothing changed anywhere', async () => {
    const before = await Promise.all(['vm1', 'vm3'].map((h) => appContainers(info, h)));
    const vm2 = info.hosts.find((h) => h.name === 'vm2')!;
    const { default: Docker } = await import('dockerode');
    const docker = new Docker();
    await docker.getContainer(vm2.containerId).pause();
    try {
      const r = await run(['deploy', '--version', '1.0.0'], 60_000);
      expect(r.code).toBe(1);
      expect(r.output).toMatch(/cannot reach vm2; nothing was changed/);
    } finally {
      await docker.getContainer(vm2.containerId).unpause();
    }
    const after = await Promise.all(['vm1', 'vm3'].map((h) => appContainers(info, h)));
    expect(after.map((m) => [...m.entries()].map(([n, s]) => `${n} ${s.split(' ')[0]}`).sort())).toEqual(before.map((m) => [...m.entries()].map(([n, s]) => `${n} ${s.split(' ')[0]}`).sort()));
    expect(await served('vm1')).toBe('hello from 2.0.0');
  });

  it('a failing pre-deploy hook aborts before anything changes, with its output', async () => {
    const hooks = join(project, '.gangway', 'hooks');
    mkdirSync(hooks, { recursive: true });
    writeFileSync(join(hooks, 'pre-deploy'), '#!/bin/sh\necho "hook refuses $GANGWAY_VERSION of $GANGWAY_SERVICE"\nexit 1\n', { mode: 0o755 });
    try {
      const before = await appContainers(info, 'vm1');
      const r = await run(['deploy', '--version', '1.0.0']);
      expect(r.code).toBe(1);
      expect(r.output).toContain('hook refuses 1.0.0 of hello');
      expect([...(await appContainers(info, 'vm1')).keys()].sort()).toEqual([...before.keys()].sort());
      expect((await run(['lock', 'status'])).output).toContain('free');
    } finally {
      rmSync(join(hooks, 'pre-deploy'));
    }
  });

  it('logs and exec reach the live containers, named by host and role', async () => {
    const logs = await run(['logs', '--role', 'workers', '-n', '3']);
    expect(logs.code, logs.output).toBe(0);
    expect(logs.output).toMatch(/\[vm3 workers\] worker 2\.0\.0 heartbeat \d+/);
    const fresh = await run(['exec', '--host', 'vm1', 'cat', '/www/version']);
    expect(fresh.code, fresh.output).toBe(0);
    expect(fresh.output).toContain('[vm1 web] 2.0.0');
    const reused = await run(['exec', '--reuse', '--host', 'vm2', '--', 'sh', '-c', 'echo $MODE']);
    expect(reused.code, reused.output).toBe(0);
    expect(reused.output).toContain('[vm2 web] test');
    // The throwaway exec container is gone.
    expect(await onHost(info, 'vm1', 'docker ps -aq --filter label=gangway.managed=exec')).toBe('');
  });

  it('records every deploy in the audit log of every host', async () => {
    const r = await run(['history']);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/deploy 3\.0\.0 failed/);
    expect(r.output).toMatch(/rollback 1\.0\.0 ok/);
    expect(r.output).not.toContain(TEST_SECRET);
    const raw = await onHost(info, 'vm3', 'cat /var/lib/gangway/audit/hello.log');
    expect(raw.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(6);
  });

  it("DEBUG=* turns on the libraries' debug logs but never docker-modem's, which prints container environments", async () => {
    // status inspects every app container: with modem's log on, each answer (Env included) is printed.
    const r = await gangway(['status'], { cwd: project, timeoutMs: 150_000, env: { DEBUG: '*' } });
    expect(r.code, r.output).toBe(0);
    expect(r.output).not.toContain(TEST_SECRET);
    expect(r.output).not.toMatch(/PRIVATE KEY/);
    expect(r.output).not.toMatch(/\bmodem\b.*Sending/);
  });
});
