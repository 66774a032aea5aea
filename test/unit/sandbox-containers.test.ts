import { describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import {
  ALL_CAPABILITIES, HOST_CAPABILITIES, hostCreateOptions, hostVolumeCreateOptions, isValidSandboxId, networkCreateOptions,
  publishedPort, registryCreateOptions, sandboxFilter, sandboxHostNames, sandboxLabels, sandboxNames,
} from '../../src/sandbox/containers.js';

const host = hostCreateOptions({ id: 'default', image: 'gangway/docker-host:abc', hostName: 'vm2', sshPort: 0, httpPort: 0 });

describe('sandbox host container', () => {
  it('gets every capability except the four this machine refuses', () => {
    expect(HOST_CAPABILITIES).toHaveLength(ALL_CAPABILITIES.length - 4);
    for (const refused of ['SYS_RESOURCE', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE']) expect(host.HostConfig?.CapAdd).not.toContain(refused);
    for (const needed of ['SYS_ADMIN', 'NET_ADMIN', 'MKNOD', 'SYS_PTRACE', 'AUDIT_WRITE']) expect(host.HostConfig?.CapAdd).toContain(needed);
    expect(host.HostConfig?.Privileged).toBeUndefined();
  });

  it('runs unconfined with access to every device', () => {
    expect(host.HostConfig?.SecurityOpt).toEqual(['seccomp=unconfined', 'apparmor=unconfined']);
    expect(host.HostConfig?.DeviceCgroupRules).toEqual(['a *:* rwm']);
  });

  it('keeps the inner engine data on its own labelled volume', () => {
    expect(host.HostConfig?.Mounts).toEqual([{ Type: 'volume', Source: 'gangway-sandbox-vm2-docker', Target: '/var/lib/docker' }]);
    expect(hostVolumeCreateOptions('default', 'vm2')).toEqual({
      Name: 'gangway-sandbox-vm2-docker',
      Labels: { 'gangway.sandbox': 'default', 'gangway.sandbox.role': 'volume', 'gangway.sandbox.host': 'vm2' },
    });
  });

  it('publishes ssh, http and https on loopback only', () => {
    expect(host.HostConfig?.PortBindings).toEqual({
      '22/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
      '443/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    });
    expect(Object.keys(host.ExposedPorts ?? {})).toContain('443/tcp');
    const fixed = hostCreateOptions({ id: 'default', image: 'i', hostName: 'vm1', sshPort: 2201, httpPort: 8001, httpsPort: 8443 });
    expect(fixed.HostConfig?.PortBindings?.['22/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: '2201' }]);
    expect(fixed.HostConfig?.PortBindings?.['443/tcp']).toEqual([{ HostIp: '127.0.0.1', HostPort: '8443' }]);
  });

  it('is never restarted by the engine', () => {
    expect(host.HostConfig?.RestartPolicy).toEqual({ Name: 'no' });
  });

  it('is named, labelled and reachable by its host name on the sandbox network', () => {
    expect(host.name).toBe('gangway-sandbox-vm2');
    expect(host.Hostname).toBe('vm2');
    expect(host.Labels).toEqual({ 'gangway.sandbox': 'default', 'gangway.sandbox.role': 'host', 'gangway.sandbox.host': 'vm2' });
    expect(host.HostConfig?.NetworkMode).toBe('gangway-sandbox');
    expect(host.NetworkingConfig?.EndpointsConfig?.['gangway-sandbox']?.Aliases).toEqual(['vm2']);
  });
});

describe('sandbox registry container', () => {
  const registry = registryCreateOptions({ id: 'default', image: 'gangway/registry:abc', localPort: 5000 });

  it('answers to "registry" on the sandbox network', () => {
    expect(registry.NetworkingConfig?.EndpointsConfig?.['gangway-sandbox']?.Aliases).toEqual(['registry']);
  });

  it('publishes 5000 on 127.0.0.1:5000', () => {
    expect(registry.HostConfig?.PortBindings).toEqual({ '5000/tcp': [{ HostIp: '127.0.0.1', HostPort: '5000' }] });
  });

  it('carries the sandbox label', () => {
    expect(registry.Labels?.['gangway.sandbox']).toBe('default');
    expect(registry.HostConfig?.RestartPolicy).toEqual({ Name: 'no' });
  });
});

describe('sandbox names and labels', () => {
  it.each([
    ['default', 'gangway-sandbox', 'gangway-sandbox-registry', 'gangway-sandbox-vm1'],
    ['t2', 'gangway-sandbox-t2', 'gangway-sandbox-t2-registry', 'gangway-sandbox-t2-vm1'],
  ])('sandbox %s: network %s, registry %s, host %s', (id, network, registry, vm1) => {
    const names = sandboxNames(id);
    expect([names.network, names.registry, names.host('vm1')]).toEqual([network, registry, vm1]);
    expect(networkCreateOptions(id).Name).toBe(network);
    expect(networkCreateOptions(id).Labels).toEqual(sandboxLabels(id, 'network'));
  });

  it('numbers hosts from vm1', () => {
    expect(sandboxHostNames(3)).toEqual(['vm1', 'vm2', 'vm3']);
  });

  it('filters one sandbox by label value, or all of them by label key', () => {
    expect(sandboxFilter('t2')).toEqual({ label: ['gangway.sandbox=t2'] });
    expect(sandboxFilter()).toEqual({ label: ['gangway.sandbox'] });
  });

  it.each([['default', true], ['t-2', true], ['', false], ['Upper', false], ['-x', false], ['a b', false]])('id %j valid: %s', (id, ok) => {
    expect(isValidSandboxId(id)).toBe(ok);
  });
});

describe('publishedPort', () => {
  const inspect = (ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null>) =>
    ({ NetworkSettings: { Ports: ports } }) as unknown as Docker.ContainerInspectInfo;

  it('reads the loopback binding the engine picked', () => {
    expect(publishedPort(inspect({ '22/tcp': [{ HostIp: '127.0.0.1', HostPort: '32770' }] }), '22/tcp')).toBe(32770);
  });

  it('is undefined when the port is not published', () => {
    expect(publishedPort(inspect({ '22/tcp': null }), '22/tcp')).toBeUndefined();
    expect(publishedPort(inspect({}), '80/tcp')).toBeUndefined();
  });
});
