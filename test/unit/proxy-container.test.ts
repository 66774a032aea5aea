import { describe, expect, it } from 'vitest';
import { readConfigCommand, writeConfigCommand } from '../../src/proxy/config-file.js';
import { proxyContainerSpec, specHash } from '../../src/proxy/container.js';

const base = { image: 'haproxy:3.2', httpPort: 80, network: 'gangway' };

describe('proxyContainerSpec', () => {
  const spec = proxyContainerSpec(base);

  it.each([
    ['is named gangway-proxy', { name: 'gangway-proxy' }],
    ['uses the image', { Image: 'haproxy:3.2' }],
    ['runs as root (socket in a root-owned host dir, port 80)', { User: '0:0' }],
    ['exposes :80', { ExposedPorts: { '80/tcp': {} } }],
    // Whatever the image's own command: a plain `haproxy -f` (Debian-built images) cannot reload.
    ['runs haproxy in master-worker mode, in the foreground', { Entrypoint: ['haproxy'], Cmd: ['-W', '-db', '-f', '/usr/local/etc/haproxy/haproxy.cfg'] }],
    ['stops softly (in-flight requests finish)', { StopSignal: 'SIGUSR1' }],
  ])('%s', (_label, fields) => {
    expect(spec).toMatchObject(fields);
  });

  it('is labelled as the managed proxy, with a hash of its spec', () => {
    expect(spec.Labels).toEqual({ 'gangway.managed': 'proxy', 'gangway.proxy.spec': specHash(spec) });
  });

  it('restarts unless stopped, publishes :80, bind-mounts the config dir, joins the app network', () => {
    expect(spec.HostConfig).toEqual({
      RestartPolicy: { Name: 'always' },
      PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '80' }] },
      Binds: ['/var/lib/gangway/proxy:/usr/local/etc/haproxy'],
      NetworkMode: 'gangway',
    });
  });

  it('publishes 443 when asked, on the given address', () => {
    const s = proxyContainerSpec({ ...base, httpPort: 18080, httpsPort: 18443, publishAddress: '127.0.0.1' });
    expect(s.HostConfig?.PortBindings).toEqual({
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }],
      '443/tcp': [{ HostIp: '127.0.0.1', HostPort: '18443' }],
    });
    expect(s.ExposedPorts).toEqual({ '80/tcp': {}, '443/tcp': {} });
  });

  it('takes a name, host dir and extra labels (tests)', () => {
    const s = proxyContainerSpec({ ...base, containerName: 'gangway-proxy-t1', hostDir: '/tmp/p', labels: { 'gangway.dev': 'proxy' } });
    expect(s.name).toBe('gangway-proxy-t1');
    expect(s.HostConfig?.Binds).toEqual(['/tmp/p:/usr/local/etc/haproxy']);
    expect(s.Labels?.['gangway.dev']).toBe('proxy');
  });

  it('refuses to let extra labels override its own', () => {
    expect(() => proxyContainerSpec({ ...base, labels: { 'gangway.managed': 'app' } })).toThrow(/reserved/);
  });

  it.each([
    ['the image', { image: 'gangway/haproxy:abc' }],
    ['the published port', { httpPort: 8080 }],
    ['the network', { network: 'other' }],
    ['the publish address', { publishAddress: '127.0.0.1' }],
  ])('changes its hash when %s changes', (_label, change) => {
    expect(proxyContainerSpec({ ...base, ...change }).Labels?.['gangway.proxy.spec']).not.toBe(spec.Labels?.['gangway.proxy.spec']);
  });

  it('keeps its hash for equal options', () => {
    expect(proxyContainerSpec({ ...base }).Labels?.['gangway.proxy.spec']).toBe(spec.Labels?.['gangway.proxy.spec']);
  });
});

describe('config file commands', () => {
  it('writes through a temporary file and a rename, content on stdin', () => {
    expect(writeConfigCommand('global\n')).toEqual({
      command: 'mkdir -p /var/lib/gangway/proxy && { chgrp docker /var/lib/gangway/proxy 2>/dev/null; chmod 2770 /var/lib/gangway/proxy 2>/dev/null; true; } && cat > /var/lib/gangway/proxy/.haproxy.cfg.tmp && mv -f /var/lib/gangway/proxy/.haproxy.cfg.tmp /var/lib/gangway/proxy/haproxy.cfg',
      stdin: 'global\n',
    });
  });

  it('quotes a host dir with spaces', () => {
    expect(writeConfigCommand('x', '/tmp/a b').command).toBe("mkdir -p '/tmp/a b' && { chgrp docker '/tmp/a b' 2>/dev/null; chmod 2770 '/tmp/a b' 2>/dev/null; true; } && cat > '/tmp/a b/.haproxy.cfg.tmp' && mv -f '/tmp/a b/.haproxy.cfg.tmp' '/tmp/a b/haproxy.cfg'");
  });

  it('reads the file, exit 3 when absent', () => {
    expect(readConfigCommand('/x').command).toBe('if [ -e /x/haproxy.cfg ]; then cat /x/haproxy.cfg; else exit 3; fi');
  });
});
