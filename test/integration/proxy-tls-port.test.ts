// Issue 15: the 308 from plain HTTP names the proxy's HTTPS port when proxy.https_port is not 443.
// The sandbox publishes each host's :80 and :443 on loopback ports, not the 8443 used here, so the
// test reads the Location (through the host's :80) and the port the proxy container publishes;
// it does not follow the redirect.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TestCa } from '../fixtures/test-certs.js';
import { gangway, onHost, pushHello, resetHosts, writeProject } from './helpers/deploy.js';
import { testProxyImage } from './helpers/proxy-line.js';

const info = inject('sandbox');
const NAME = 'tls-port.test';
let ca: TestCa;
let env: Record<string, string>;

function project(more: Record<string, unknown>): string {
  return writeProject(info, {
    service: 'tlsport',
    repo: 'tls-port/web',
    extra: {
      servers: { web: { hosts: ['vm1'] } },
      proxy: { app_port: 80, image: testProxyImage(info), healthcheck: { path: '/up', interval: '500ms', timeout: '2s' }, hosts: [NAME], ssl: { certificate_pem: 'TLS_CERT', private_key_pem: 'TLS_KEY' }, ...more },
    },
  });
}

/** Plain HTTP GET through vm1's :80 with this Host header: the status and Location. */
function redirectOf(host: string, path: string): Promise<{ status: number; location?: string }> {
  const port = info.hosts.find((h) => h.name === 'vm1')!.httpPort;
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { Host: host }, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0 }));
    req.end();
  });
}

describe('the redirect to HTTPS names proxy.https_port', () => {
  beforeAll(async () => {
    ca = new TestCa();
    const leaf = ca.issue('leaf', [NAME], 2);
    env = { TLS_CERT: leaf.cert, TLS_KEY: leaf.key };
    await resetHosts(info);
    await pushHello(info, 'tls-port/web', '1.0.0');
  }, 300_000);

  afterAll(async () => {
    await resetHosts(info);
    ca.remove();
  });

  it('https_port 8443: Location https://<name>:8443<path>, whatever port the Host header had; the proxy publishes 8443', async () => {
    const r = await gangway(['setup', '--version', '1.0.0'], { cwd: project({ https_port: 8443 }), env, timeoutMs: 180_000 });
    expect(r.code, r.output).toBe(0);
    expect(await redirectOf(NAME, '/x?y=1')).toEqual({ status: 308, location: `https://${NAME}:8443/x?y=1` });
    expect(await redirectOf(`${NAME}:8080`, '/a/b')).toEqual({ status: 308, location: `https://${NAME}:8443/a/b` });
    expect((await onHost(info, 'vm1', 'docker port gangway-proxy 443/tcp')).trim().split('\n')[0]).toMatch(/:8443$/);
  });

  it('back on 443: the Location has no port again', async () => {
    const r = await gangway(['deploy', '--version', '1.0.0'], { cwd: project({}), env, timeoutMs: 180_000 });
    expect(r.code, r.output).toBe(0);
    expect(await redirectOf(NAME, '/x?y=1')).toEqual({ status: 308, location: `https://${NAME}/x?y=1` });
  });
});
