// Issue 15 with an app not written for gangway, on busy hosts, under HTTPS load. The app is a
// stranger's: busybox httpd serving a directory on port 8080 with a CGI, no /up (the proxy checks
// /index.html), no HEALTHCHECK, httpd as PID 1 (SIGTERM ignored), built the way the sandbox builds
// its images (a Dockerfile and a context as data, on the local busybox image, no registry pull).
// Own certificate from gangway secrets on vm1 and vm2; a redeploy that changes both the app and
// the certificate runs with a CPU and process-start burner in every host and HTTPS requests on
// keep-alive and fresh connections (a handshake each) through both proxies: 0 may fail.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Events } from '../../src/events/events.js';
import { ensureImage } from '../../src/sandbox/image-builder.js';
import { fileEntry, type ImageSpec } from '../../src/sandbox/image-spec.js';
import { ensureBusyboxImage } from '../../src/sandbox/images.js';
import { whileBusy } from './helpers/busy.js';
import { gangway, onHost, pushBuilt, resetHosts, writeProject } from './helpers/deploy.js';
import { ALL_HOSTS } from './helpers/faults.js';
import { testProxyImage } from './helpers/proxy-line.js';
import { TestCa } from '../fixtures/test-certs.js';
import { httpsGet, underHttpsLoad, type HttpsAnswer, type Leaf } from './helpers/tls.js';

const info = inject('sandbox');
const docker = new Docker();
const WEB = ['vm1', 'vm2'] as const;
const NAME = 'stranger.test';
const REPO = 'tls-busy/stranger';
const ASSET_BYTES = 16_384;
const BURN_MAX_S = 150;
let testCa: TestCa;
let project: string;
let ca: string;
let appImage: string;
const leaves: Leaf[] = [];

/** The CGI: what the app was told about the scheme (busybox httpd passes headers as HTTP_*). */
const PROTO_CGI = '#!/bin/sh\nprintf \'Content-Type: text/plain\\r\\n\\r\\n%s\\n\' "${HTTP_X_FORWARDED_PROTO:-none}"\n';

/** A stranger's app: httpd on 8080 serving /srv, a page naming its version, a 16 KiB file, a CGI. */
function strangerImage(base: string, version: string): ImageSpec {
  return {
    name: 'tls-busy-stranger',
    dockerfile: [
      'ARG BASE',
      'FROM ${BASE}',
      'ARG VERSION',
      'COPY srv/ /srv/',
      `RUN chmod 755 /srv/cgi-bin/proto && echo "stranger \${VERSION}" > /srv/index.html && head -c ${ASSET_BYTES} /dev/zero | tr '\\0' x > /srv/asset.txt`,
      'EXPOSE 8080',
      'CMD ["httpd", "-f", "-p", "8080", "-h", "/srv"]',
      '',
    ].join('\n'),
    context: [fileEntry('srv/cgi-bin/proto', PROTO_CGI, 0o755)],
    buildArgs: { BASE: base, VERSION: version },
  };
}

/** Right answers for each path, from either version (the load runs across the switch). */
function accept(r: HttpsAnswer, path: string): boolean {
  if (path === '/') return r.body === 'stranger 1.0.0' || r.body === 'stranger 2.0.0';
  if (path === '/asset.txt') return r.body.length === ASSET_BYTES;
  return r.body === 'https';
}

const env = (leaf: Leaf) => ({ TLS_CERT: leaf.cert, TLS_KEY: leaf.key });
const get = (host: string, path = '/') => httpsGet(info, host, NAME, { ca, path });

describe('HTTPS for a stranger\'s app on busy hosts (issue 15)', () => {
  beforeAll(async () => {
    testCa = new TestCa();
    ca = readFileSync(testCa.certFile, 'utf8');
    leaves.push(testCa.issue('leaf1', [NAME], 2), testCa.issue('leaf2', [NAME], 2));
    await resetHosts(info);
    const events = new Events();
    const base = (await ensureBusyboxImage(docker, events)).tag;
    for (const version of ['1.0.0', '2.0.0']) {
      const built = await ensureImage(docker, strangerImage(base, version), events);
      const pushed = await pushBuilt(info, built.tag, REPO, version);
      if (version === '1.0.0') appImage = pushed;
    }
    project = writeProject(info, {
      service: 'stranger',
      repo: REPO,
      extra: {
        servers: { web: { hosts: [...WEB] } },
        proxy: { app_port: 8080, image: testProxyImage(info), healthcheck: { path: '/index.html', interval: '1s', timeout: '5s' }, hosts: [NAME], ssl: { certificate_pem: 'TLS_CERT', private_key_pem: 'TLS_KEY' } },
        deploy_timeout: '60s',
        // Answers take seconds on busy hosts; a shorter drain would cut them.
        drain_timeout: '30s',
      },
    });
    // The burners' image, on every host before they start (docker run would print a pull).
    await Promise.all(ALL_HOSTS.map((h) => onHost(info, h, `docker pull -q ${info.images.busybox}`)));
    const r = await gangway(['setup', '--version', '1.0.0'], { cwd: project, env: env(leaves[0]!), timeoutMs: 240_000 });
    if (r.code !== 0) throw new Error(`setup failed (exit ${r.code}):\n${r.output}`);
  }, 600_000);

  afterAll(async () => {
    await resetHosts(info);
    testCa.remove();
  });

  it('the app is not gangway-shaped: no /up, httpd as PID 1 on 8080, no HEALTHCHECK; it serves over HTTPS', async () => {
    for (const host of WEB) {
      expect(await get(host), host).toMatchObject({ status: 200, body: 'stranger 1.0.0' });
      expect((await get(host, '/up')).status, host).toBe(404);
      expect(await get(host, '/cgi-bin/proto')).toMatchObject({ status: 200, body: 'https' });
    }
    const pid1 = await onHost(info, 'vm1', "docker exec stranger-web-1.0.0 cat /proc/1/cmdline | tr '\\0' ' '");
    expect(pid1.trim()).toBe('httpd -f -p 8080 -h /srv');
    expect((await onHost(info, 'vm1', `docker image inspect -f '{{json .Config.Healthcheck}}' ${appImage}`)).trim()).toBe('null');
  });

  it('a redeploy (new app version and new certificate) on busy hosts under HTTPS load: 0 failed requests', async () => {
    const load = { info, hosts: WEB, names: [NAME], ca, paths: ['/', '/asset.txt', '/cgi-bin/proto'], accept, timeoutMs: 30_000 };
    const started = Date.now();
    const { result, requests, failures } = await underHttpsLoad(load, 280_000, () =>
      whileBusy(info, ALL_HOSTS, info.images.busybox, BURN_MAX_S, () => gangway(['deploy', '--version', '2.0.0'], { cwd: project, env: env(leaves[1]!), timeoutMs: 240_000 })),
    );
    console.info(`tls-busy: redeploy on busy hosts took ${Date.now() - started} ms; https load ${requests} requests, ${failures.length} failed${failures.length ? `: ${failures.slice(0, 5).join('; ')}` : ''}`);
    expect(result.code, result.output).toBe(0);
    expect(result.output).not.toContain(leaves[1]!.key.split('\n')[1]!);
    expect(requests).toBeGreaterThan(30);
    expect(failures).toEqual([]);
    const fingerprint = new X509Certificate(leaves[1]!.cert).fingerprint;
    for (const host of WEB) expect(await get(host), host).toMatchObject({ status: 200, body: 'stranger 2.0.0', fingerprint });
  });
});
