import { describe, expect, it } from 'vitest';
import { readConfigCommand, removeSocketCommand, writeConfigCommand } from '../../src/proxy/config-file.js';
import { proxyContainerSpec, publishedHttpsPort, specHash } from '../../src/proxy/container.js';
import { parseProxyIdentity, proxyIdentityCommand } from '../../src/proxy/identity.js';
import { PROXY_UID } from '../../src/proxy/paths.js';

const base = { image: 'haproxy:3.0', httpPort: 80, network: 'gangway', uid: 80080, gid: 107 };

describe('proxyContainerSpec', () => {
  const spec = proxyContainerSpec(base);

  it.each([
    ['is named gangway-proxy', { name: 'gangway-proxy' }],
    ['uses the image', { Image: 'haproxy:3.0' }],
    ['runs as the proxy uid, in the host\'s docker group (never root)', { User: '80080:107' }],
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
      // A non-root process binds :80/:443 in the container's own network namespace.
      Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
    });
  });

  it('runs as no user but the one it is given: no capability, no way to gain one', () => {
    expect(spec.User).not.toMatch(/^0(:|$)/);
    expect(spec.HostConfig?.CapAdd).toBeUndefined();
    expect(spec.HostConfig?.Privileged).toBeUndefined();
  });

  it.each([
    ['root', { uid: 0 }],
    ['a fraction', { uid: 1.5 }],
    ['a uid the kernel does not take', { uid: 2 ** 31 }],
    ['a negative gid', { gid: -1 }],
  ])('refuses %s', (_label, change) => {
    expect(() => proxyContainerSpec({ ...base, ...change })).toThrow(/proxy (uid|gid)/);
  });

  it('publishes 443 when asked, on the given address', () => {
    const s = proxyContainerSpec({ ...base, httpPort: 18080, httpsPort: 18443, publishAddress: '127.0.0.1' });
    expect(s.HostConfig?.PortBindings).toEqual({
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }],
      '443/tcp': [{ HostIp: '127.0.0.1', HostPort: '18443' }],
    });
    expect(s.ExposedPorts).toEqual({ '80/tcp': {}, '443/tcp': {} });
  });

  it('reads the HTTPS host port a running proxy publishes (kept by a service without https_port)', () => {
    const s = proxyContainerSpec({ ...base, httpPort: 18080, httpsPort: 18443 });
    expect(publishedHttpsPort({ HostConfig: s.HostConfig! } as Parameters<typeof publishedHttpsPort>[0])).toBe(18443);
    expect(publishedHttpsPort({ HostConfig: proxyContainerSpec(base).HostConfig! } as Parameters<typeof publishedHttpsPort>[0])).toBeUndefined();
    expect(publishedHttpsPort(undefined)).toBeUndefined();
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
    ['the uid', { uid: 80081 }],
    ['the docker group (another host, or a renumbered group)', { gid: 999 }],
  ])('changes its hash when %s changes', (_label, change) => {
    expect(proxyContainerSpec({ ...base, ...change }).Labels?.['gangway.proxy.spec']).not.toBe(spec.Labels?.['gangway.proxy.spec']);
  });

  it('keeps its hash for equal options', () => {
    expect(proxyContainerSpec({ ...base }).Labels?.['gangway.proxy.spec']).toBe(spec.Labels?.['gangway.proxy.spec']);
  });

  it('differs from the root proxy of earlier versions, so ensureProxy recreates that one once', () => {
    const { [`gangway.proxy.spec`]: _hash, ...labels } = spec.Labels!;
    const { Sysctls: _s, CapDrop: _c, SecurityOpt: _o, ...hostConfig } = spec.HostConfig!;
    const rootSpec = { ...spec, User: '0:0', Labels: labels, HostConfig: hostConfig };
    expect(specHash(rootSpec)).not.toBe(spec.Labels?.['gangway.proxy.spec']);
  });
});

describe('the proxy identity', () => {
  const out = (gid: string, account = '', subuid = '') =>
    ['some motd line', `gangway-proxy-identity gid=${gid}`, `gangway-proxy-identity account=${account}`, `gangway-proxy-identity subuid=${subuid}`, ''].join('\n');

  it('defaults to a uid above adduser\'s and systemd\'s ranges and below the first /etc/subuid range', () => {
    expect(PROXY_UID).toBe(80080);
    expect(PROXY_UID).toBeGreaterThan(65534);
    expect(PROXY_UID).toBeLessThan(100000);
  });

  it('reads the docker group\'s gid, and who has the uid, without changing anything', () => {
    const c = proxyIdentityCommand(80080);
    expect(c.stdin).toBeUndefined();
    expect(c.command).toContain('getent group docker');
    expect(c.command).toContain('getent passwd 80080');
    expect(c.command).toContain('/etc/subuid');
    expect(c.command).not.toMatch(/sudo|chown|chgrp|useradd|groupadd/);
  });

  it('refuses a uid that is not a plain number before it reaches a shell', () => {
    expect(() => proxyIdentityCommand(Number('1; rm -rf /'))).toThrow(/proxy uid/);
  });

  it('gives the uid and the docker group\'s gid when no one has the uid', () => {
    expect(parseProxyIdentity(out('107'), 80080)).toEqual({ ok: true, identity: { uid: 80080, gid: 107 } });
  });

  it.each([
    ['an account has the uid', out('107', 'alice'), /uid 80080, which the proxy runs as, is the account alice's/, /proxy\.uid/],
    ['it is in a subordinate uid range', out('107', '', 'bob'), /is in bob's subordinate uids/, /proxy\.uid/],
    ['the host has no docker group', out(''), /there is no docker group/, /groupadd --system docker/],
    ['the probe printed nothing', '', /there is no docker group/, /gangway setup/],
  ])('refuses when %s, saying what to do', (_label, stdout, reason, hint) => {
    const a = parseProxyIdentity(stdout, 80080);
    expect(a.ok).toBe(false);
    if (a.ok) return;
    expect(a.reason).toMatch(reason);
    expect(a.hint).toMatch(hint);
  });
});

describe('config file commands', () => {
  it('writes through a temporary file and a rename, content on stdin, readable by the docker group (HAProxy\'s)', () => {
    expect(writeConfigCommand('global\n')).toEqual({
      command: 'mkdir -p /var/lib/gangway/proxy && { chgrp docker /var/lib/gangway/proxy 2>/dev/null; chmod 2770 /var/lib/gangway/proxy 2>/dev/null; true; } && cat > /var/lib/gangway/proxy/.haproxy.cfg.tmp && chmod 640 /var/lib/gangway/proxy/.haproxy.cfg.tmp && mv -f /var/lib/gangway/proxy/.haproxy.cfg.tmp /var/lib/gangway/proxy/haproxy.cfg',
      stdin: 'global\n',
    });
  });

  it('quotes a host dir with spaces', () => {
    expect(writeConfigCommand('x', '/tmp/a b').command).toBe("mkdir -p '/tmp/a b' && { chgrp docker '/tmp/a b' 2>/dev/null; chmod 2770 '/tmp/a b' 2>/dev/null; true; } && cat > '/tmp/a b/.haproxy.cfg.tmp' && chmod 640 '/tmp/a b/.haproxy.cfg.tmp' && mv -f '/tmp/a b/.haproxy.cfg.tmp' '/tmp/a b/haproxy.cfg'");
  });

  it('removes a stopped proxy\'s socket, gone or not (another uid\'s socket stops HAProxy from binding)', () => {
    expect(removeSocketCommand().command).toBe('rm -f /var/lib/gangway/proxy/admin.sock');
    expect(removeSocketCommand('/tmp/a b').command).toBe("rm -f '/tmp/a b/admin.sock'");
  });

  it('reads the file, exit 3 when absent', () => {
    expect(readConfigCommand('/x').command).toBe('if [ -e /x/haproxy.cfg ]; then cat /x/haproxy.cfg; else exit 3; fi');
  });
});
