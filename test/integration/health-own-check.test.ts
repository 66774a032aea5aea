// Issue 16: a proxied container's image HEALTHCHECK is run by gangway (docker exec) as soon as the
// proxy checks it, instead of waiting for Docker's first check an interval after the start. Shown
// on an app not written for gangway (busybox httpd serving /srv): with a 60 s HEALTHCHECK interval
// and a 30 s deploy_timeout, the deploy can only pass in time through gangway's own run of the
// check; a version whose HEALTHCHECK always fails (while its HTTP /up answers 200) is still
// refused, with Docker's verdict and the probe's output, and the old version keeps serving.
import Docker from 'dockerode';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { Events } from '../../src/events/events.js';
import { ensureImage } from '../../src/sandbox/image-builder.js';
import { fileEntry, type ImageSpec } from '../../src/sandbox/image-spec.js';
import { ensureBusyboxImage } from '../../src/sandbox/images.js';
import { gangway, pushBuilt, resetHosts, writeProject } from './helpers/deploy.js';
import { parseEvents } from './helpers/faults.js';

const info = inject('sandbox');
const docker = new Docker();
const REPO = 'own-check/app';
const HOSTS = ['vm1', 'vm2'];

/** httpd on 80 with /up and /version; `check` is the image's HEALTHCHECK line. */
function appImage(base: string, version: string, check: string): ImageSpec {
  return {
    name: 'own-check-app',
    dockerfile: [
      'ARG BASE',
      'FROM ${BASE}',
      'ARG VERSION',
      'RUN mkdir -p /srv && echo ok > /srv/up && echo "${VERSION}" > /srv/version',
      check,
      'CMD ["httpd", "-f", "-p", "80", "-h", "/srv"]',
      '',
    ].join('\n'),
    context: [fileEntry('README', 'own-check test app\n', 0o644)],
    buildArgs: { BASE: base, VERSION: version },
  };
}

const SLOW_CHECK = 'HEALTHCHECK --interval=60s --timeout=2s --retries=3 CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1/up"]';
const FAILING_CHECK = 'HEALTHCHECK --interval=2s --timeout=1s --retries=2 CMD ["sh", "-c", "echo database unreachable; exit 1"]';

async function served(host: string): Promise<string> {
  const h = info.hosts.find((x) => x.name === host)!;
  const res = await fetch(`http://127.0.0.1:${h.httpPort}/version`, { signal: AbortSignal.timeout(5000) });
  return (await res.text()).trim();
}

describe("gangway runs the image's HEALTHCHECK itself once the proxy checks the container", () => {
  let project: string;
  beforeAll(async () => {
    await resetHosts(info);
    const events = new Events();
    const base = (await ensureBusyboxImage(docker, events)).tag;
    for (const [version, check] of [['1.0.0', SLOW_CHECK], ['2.0.0', SLOW_CHECK], ['3.0.0', FAILING_CHECK]] as const) {
      const built = await ensureImage(docker, appImage(base, version, check), events);
      await pushBuilt(info, built.tag, REPO, version);
    }
    project = writeProject(info, { service: 'owncheck', repo: REPO, extra: { servers: { web: { hosts: HOSTS } }, deploy_timeout: '30s', env: { clear: { MODE: 'test' } } } });
  }, 300_000);

  it('deploys a version whose HEALTHCHECK interval (60 s) is longer than deploy_timeout (30 s)', async () => {
    const setup = await gangway(['setup', '--version', '1.0.0'], { cwd: project, timeoutMs: 120_000 });
    expect(setup.code, setup.output).toBe(0);
    const t0 = Date.now();
    const deploy = await gangway(['--json', 'deploy', '--version', '2.0.0'], { cwd: project, timeoutMs: 120_000 });
    const took = Date.now() - t0;
    expect(deploy.code, deploy.output).toBe(0);
    // Docker's own first check would come 60 s after the start: the deploy could not end before it.
    expect(took).toBeLessThan(30_000);
    const health = parseEvents(deploy.stdout).filter((e) => e.type === 'step' && e.step === 'health' && e.status === 'done');
    expect(health.map((e) => e.host).sort()).toEqual(HOSTS);
    for (const e of health) expect(e.type === 'step' ? e.message : '').toContain('run by gangway');
    for (const h of HOSTS) expect(await served(h)).toBe('2.0.0');
  }, 180_000);

  it('refuses a version whose HEALTHCHECK fails although its HTTP check passes, and 2.0.0 keeps serving', async () => {
    const deploy = await gangway(['deploy', '--version', '3.0.0'], { cwd: project, timeoutMs: 120_000 });
    expect(deploy.code, deploy.output).toBe(1);
    expect(deploy.output).toMatch(/unhealthy after \d+ failed checks/);
    expect(deploy.output).toContain('database unreachable');
    for (const h of HOSTS) expect(await served(h)).toBe('2.0.0');
  }, 180_000);
});
