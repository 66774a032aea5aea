import { describe, expect, it } from 'vitest';
import { diffSnapshots } from '../../src/rehearse/diff.js';
import { hostMapping, rehearsalConfig } from '../../src/rehearse/run.js';
import { containerSnapshot, envDigest, filesCommand, parseFiles, type HostSnapshot } from '../../src/rehearse/snapshot.js';
import type { SandboxInfo } from '../../src/sandbox/types.js';

const snap = (over: Partial<HostSnapshot> = {}): HostSnapshot => ({
  host: 'vm1',
  containers: [{ name: 'hello-web-2', image: 'registry:5000/hello:2', labels: { 'gangway.role': 'web' }, envKeys: ['MODE'], envHash: 'aa', mounts: ['/var/lib/hello/data:/data'], networks: ['gangway'] }],
  networks: ['gangway'],
  volumes: [],
  proxyServers: ['hello-web-2 ready'],
  files: { '/var/lib/gangway': 'dir', '/var/lib/gangway/env/hello-web.env': 'e1' },
  ...over,
});

describe('the same-state diff', () => {
  it('finds nothing between equal hosts', () => {
    expect(diffSnapshots([snap()], [snap()])).toEqual([]);
  });

  it('names a file left behind by the old version, and on which side', () => {
    const upgraded = snap({ files: { ...snap().files, '/var/lib/hello/data/format': 'f1' } });
    expect(diffSnapshots([snap()], [upgraded]).map((d) => d.message)).toEqual(['file /var/lib/hello/data/format only on upgrade']);
  });

  it('tells env values apart without showing them, and every other container difference', () => {
    const other = snap({ containers: [{ ...snap().containers[0]!, envHash: 'bb', image: 'registry:5000/hello:1', networks: [] }] });
    const messages = diffSnapshots([snap()], [other]).map((d) => d.message);
    expect(messages).toContain('container hello-web-2: env values differ (keys MODE)');
    expect(messages).toContain('container hello-web-2: image not the same (fresh: "registry:5000/hello:2", upgrade: "registry:5000/hello:1")');
    expect(messages).toContain('container hello-web-2: networks not the same (fresh: ["gangway"], upgrade: [])');
  });

  it('reports proxy servers, stray containers and a missing host', () => {
    const b = snap({ proxyServers: ['hello-web-2 ready', 'hello-web-1 drain'], containers: [...snap().containers, { ...snap().containers[0]!, name: 'stray' }] });
    const messages = diffSnapshots([snap(), snap({ host: 'vm2' })], [b]).map((d) => d.message);
    expect(messages).toEqual(['container stray only on upgrade', 'proxy server hello-web-1 drain only on upgrade', 'no snapshot of vm2 on upgrade']);
  });
});

describe('snapshots', () => {
  it('hash env values and keep only the keys in the clear', () => {
    const a = envDigest(['B=2', 'A=secret']);
    expect(a.keys).toEqual(['A', 'B']);
    expect(a.hash).not.toContain('secret');
    expect(envDigest(['A=secret', 'B=2']).hash).toBe(a.hash);
    expect(envDigest(['A=other', 'B=2']).hash).not.toBe(a.hash);
  });

  it('leave out the deploy time label, which always differs', () => {
    const info = { Name: '/hello-web-2', Config: { Image: 'img:2', Env: [], Labels: { 'gangway.deployed_at': 'now', 'gangway.role': 'web' } }, Mounts: [{ Type: 'bind', Source: '/srv', Destination: '/data', RW: false }], NetworkSettings: { Networks: { gangway: {} } } };
    const s = containerSnapshot(info as never);
    expect(s.labels).toEqual({ 'gangway.role': 'web' });
    expect(s.mounts).toEqual(['/srv:/data:ro']);
  });

  it('list files under the given roots but not gangway\'s history and proxy state', () => {
    const cmd = filesCommand(['/var/lib/gangway', '/var/lib/hello data']);
    expect(cmd).toContain("'/var/lib/hello data'");
    expect(cmd).toMatch(/-path '?\/var\/lib\/gangway\/audit'? -prune/);
    expect(cmd).toMatch(/-path '?\/var\/lib\/gangway\/locks'? -prune/);
    expect(parseFiles('dir /a\nabc123 /a/b c\n')).toEqual({ '/a': 'dir', '/a/b c': 'abc123' });
  });
});

describe('the rehearsal config', () => {
  const info = {
    hosts: [{ name: 'vm1', address: '127.0.0.1', sshPort: 2201 }, { name: 'vm2', address: '127.0.0.1', sshPort: 2202 }],
    registry: { name: 'registry:5000' },
    keyPath: '/k',
    knownHostsPath: '/kh',
    images: { proxy: 'registry:5000/gangway/haproxy:1' },
  } as unknown as SandboxInfo;

  it('renames hosts everywhere, points SSH and images at the sandbox, and keeps the rest as written', () => {
    const raw = {
      service: 'hello',
      image: 'reg.example.com/acme/hello',
      registry: { server: 'reg.example.com', password: '${PW}' },
      servers: { web: { hosts: ['app-1'] }, workers: { hosts: ['job-1'], cmd: ['x'] } },
      hosts: { 'app-1': { address: '10.0.0.1' } },
      ssh: { user: 'deploy', connect_timeout: '3s' },
      env: { secret: ['DB'] },
      deploy_timeout: '30s',
      verify: { hosts: { 'job-1': [{ port: 80 }] } },
    };
    const mapping = hostMapping({ hostTargets: [{ name: 'app-1' }, { name: 'job-1' }] as never });
    const out = rehearsalConfig(raw, mapping, info, 'registry:5000/acme/hello', new Map()) as Record<string, any>;
    expect(out.servers).toEqual({ web: { hosts: ['vm1'] }, workers: { hosts: ['vm2'], cmd: ['x'] } });
    expect(out.hosts).toEqual({ vm1: { address: '127.0.0.1', port: 2201 }, vm2: { address: '127.0.0.1', port: 2202 } });
    expect(out.ssh).toEqual({ user: 'root', connect_timeout: '3s', identity: '/k', known_hosts: '/kh', trust_on_first_use: false, config: false, proxy: false });
    expect(out.image).toBe('registry:5000/acme/hello');
    expect(out.registry).toEqual({ server: 'registry:5000' });
    expect(out.proxy.image).toBe('registry:5000/gangway/haproxy:1');
    expect(out.verify.hosts).toEqual({ vm2: [{ port: 80 }] });
    expect(out.env).toEqual({ secret: ['DB'] });
    expect(out.deploy_timeout).toBe('30s');
    expect(raw.servers.web.hosts).toEqual(['app-1']);
  });
});
