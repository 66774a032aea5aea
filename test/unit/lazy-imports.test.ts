// What `gangway deploy` loads at start: libraries only some commands use are imported where they
// are used (docs/architecture.md, "Lazy imports"). A module resolution hook records every module
// this test process loads from node_modules.
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';

const HOOK = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  port.postMessage(r.url);
  return r;
}`;

const loaded: string[] = [];
const { port1, port2 } = new MessageChannel();
port1.on('message', (url: string) => loaded.push(url));
port1.unref();

/** Resolves once every resolution before it has been reported (messages arrive in order). */
async function settled(): Promise<void> {
  const barrier = `data:text/javascript,export default ${Math.random()}`;
  await import(barrier);
  while (!loaded.includes(barrier)) await new Promise((r) => setTimeout(r, 5));
}

const packagesLoaded = (): Set<string> => new Set(loaded.flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? []));

beforeAll(() => {
  register(`data:text/javascript,${encodeURIComponent(HOOK)}`, { data: { port: port2 }, transferList: [port2] });
});

describe('libraries a plain deploy never uses are not loaded with it', () => {
  it('deploy loads ssh2, not dockerode (until a host connects), selfsigned, @peculiar/x509 or read', async () => {
    await import('../../src/cli/commands/deploy.js');
    await settled();
    const packages = packagesLoaded();
    // The hook sees the libraries the deploy does load: the absences below mean something.
    expect(packages).toContain('ssh2');
    for (const lazy of ['dockerode', 'selfsigned', '@peculiar/x509', 'read']) expect(packages, lazy).not.toContain(lazy);
  }, 60_000);

  it('dockerode loads when a host first needs it, once', async () => {
    const { loadDockerode } = await import('../../src/hosts/dockerode.js');
    const [a, b] = await Promise.all([loadDockerode(), loadDockerode()]);
    await settled();
    expect(packagesLoaded()).toContain('dockerode');
    expect(a).toBe(b);
    expect(typeof a).toBe('function');
  }, 60_000);

  it('the default certificate loads selfsigned when one is made, once for every caller', async () => {
    const { defaultCertificatePem } = await import('../../src/proxy/default-cert.js');
    const [a, b] = await Promise.all([defaultCertificatePem(), defaultCertificatePem()]);
    await settled();
    expect(packagesLoaded()).toContain('selfsigned');
    expect(a).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----BEGIN PRIVATE KEY-----\n[\s\S]+\n$/);
    expect(await defaultCertificatePem()).toBe(b);
    expect(a).toBe(b);
  }, 60_000);
});
