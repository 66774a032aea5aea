import { describe, expect, it } from 'vitest';
import { accessorySchema, configSchema, dockerSchema, publishedPort } from '../../src/config/schema.js';
import {
  ACCESSORY_DIR, accessoryContainerName, accessoryEnvFilePath, accessoryHosts, accessoryLabelFilters, accessorySpec, allAccessoryHosts,
  directoriesCommand, resolveDirectories,
} from '../../src/provision/accessory-spec.js';
import { appLabelFilters } from '../../src/state/labels.js';

const kv = accessorySchema.parse({
  image: 'registry:5000/gangway/busybox:abc',
  host: 'vm1',
  port: '127.0.0.1:8081:80',
  cmd: ['httpd', '-f', '-p', '80'],
  env: { clear: { MODE: 'test' }, secret: ['KV_TOKEN'] },
  volumes: ['kv-cache:/cache', '/etc/ssl:/etc/ssl:ro'],
  directories: ['data:/data'],
});

describe('accessories in the config', () => {
  it.each([
    [5432, { containerPort: 5432, proto: 'tcp', hostIp: '127.0.0.1', hostPort: 5432 }],
    ['127.0.0.1:5432:5432', { containerPort: 5432, proto: 'tcp', hostIp: '127.0.0.1', hostPort: 5432 }],
    ['6380:6379', { containerPort: 6379, proto: 'tcp', hostIp: '', hostPort: 6380 }],
    ['0.0.0.0:53:53/udp', { containerPort: 53, proto: 'udp', hostIp: '0.0.0.0', hostPort: 53 }],
  ] as const)('port %j publishes %j', (input, expected) => {
    expect(publishedPort.parse(input)).toEqual(expected);
  });

  it.each(['5432', 'db:5432', '127.0.0.1:99999:1', 0, '1:2:3:4'])('refuses the port %j', (input) => {
    expect(publishedPort.safeParse(input).success).toBe(false);
  });

  it('needs exactly one of host and hosts', () => {
    expect(accessorySchema.safeParse({ image: 'x' }).success).toBe(false);
    expect(accessorySchema.safeParse({ image: 'x', host: 'a', hosts: ['b'] }).success).toBe(false);
    expect(accessoryHosts(accessorySchema.parse({ image: 'x', hosts: ['a', 'b'] }))).toEqual(['a', 'b']);
    expect(accessoryHosts(accessorySchema.parse({ image: 'x', host: 'a' }))).toEqual(['a']);
  });

  it('runs a string cmd through /bin/sh -c', () => {
    expect(accessorySchema.parse({ image: 'x', host: 'a', cmd: 'echo hi && sleep 1' }).cmd).toEqual(['/bin/sh', '-c', 'echo hi && sleep 1']);
  });

  it('refuses mounts that are not source:/absolute/target', () => {
    expect(accessorySchema.safeParse({ image: 'x', host: 'a', volumes: ['data'] }).success).toBe(false);
    expect(accessorySchema.safeParse({ image: 'x', host: 'a', directories: ['data:relative'] }).success).toBe(false);
    expect(accessorySchema.safeParse({ image: 'x', host: 'a', volumes: ['/srv:/srv:rw'] }).success).toBe(true);
  });

  it('defaults to no accessories and a docker section that may install', () => {
    const cfg = configSchema.parse({ service: 's', image: 'i', servers: { web: { hosts: ['a'] } } });
    expect(cfg.accessories).toEqual({});
    expect(cfg.docker).toEqual({ install: true, insecure_registries: [] });
    expect(dockerSchema.safeParse({ insecure_registries: ['http://r'] }).success).toBe(false);
  });

  it('lists every host any accessory uses once', () => {
    const cfg = configSchema.parse({ service: 's', image: 'i', servers: { web: { hosts: ['a'] } }, accessories: { db: { image: 'p', host: 'db1' }, cache: { image: 'r', hosts: ['a', 'db1'] } } });
    expect(allAccessoryHosts(cfg)).toEqual(['db1', 'a']);
  });
});

describe('accessorySpec', () => {
  const spec = accessorySpec({ service: 'hello', name: 'kv', accessory: kv, secrets: { KV_TOKEN: 's3cret', OTHER: 'x' }, network: 'gangway' });

  it('names the container <service>-<accessory> and aliases it by the accessory name on the app network', () => {
    expect(spec.containerName).toBe('hello-kv');
    expect(accessoryContainerName('hello', 'db')).toBe('hello-db');
    expect(spec.createOptions.name).toBe('hello-kv');
    expect(spec.createOptions.NetworkingConfig).toEqual({ EndpointsConfig: { gangway: { Aliases: ['kv'] } } });
    expect(spec.createOptions.HostConfig?.NetworkMode).toBe('gangway');
  });

  it('labels it as an accessory, restarts it unless stopped', () => {
    expect(spec.createOptions.Labels).toEqual({ 'gangway.managed': 'accessory', 'gangway.service': 'hello', 'gangway.accessory': 'kv', 'gangway.accessory.spec': spec.specHash });
    expect(spec.createOptions.HostConfig?.RestartPolicy).toEqual({ Name: 'always' });
  });

  it('is invisible to the app\'s label filters, and the other way round', () => {
    expect(appLabelFilters({ service: 'hello' })).toContain('gangway.managed=app');
    expect(accessoryLabelFilters('hello', 'kv')).toEqual(['gangway.managed=accessory', 'gangway.service=hello', 'gangway.accessory=kv']);
  });

  it('passes only its own secrets, never in labels, and writes them to a 0600 env file of its own', () => {
    expect(spec.createOptions.Env).toEqual(['KV_TOKEN=s3cret', 'MODE=test']);
    expect(spec.env).toEqual({ KV_TOKEN: 's3cret', MODE: 'test' });
    expect(JSON.stringify(spec.createOptions.Labels)).not.toContain('s3cret');
    expect(spec.envFilePath).toBe('/var/lib/gangway/env/hello-accessory-kv.env');
    expect(accessoryEnvFilePath('a', 'b')).toBe('/var/lib/gangway/env/a-accessory-b.env');
  });

  it('fails naming a missing secret, not its value', () => {
    expect(() => accessorySpec({ service: 'hello', name: 'kv', accessory: kv, secrets: {}, network: 'gangway' })).toThrow('secret KV_TOKEN of accessory kv is not set');
  });

  it('publishes the port as configured and mounts volumes and directories', () => {
    expect(spec.createOptions.ExposedPorts).toEqual({ '80/tcp': {} });
    expect(spec.createOptions.HostConfig?.PortBindings).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8081' }] });
    expect(spec.createOptions.HostConfig?.Binds).toEqual(['kv-cache:/cache', '/etc/ssl:/etc/ssl:ro', `${ACCESSORY_DIR}/hello-kv/data:/data`]);
    expect(spec.createOptions.Cmd).toEqual(['httpd', '-f', '-p', '80']);
  });

  it('publishes nothing without a port', () => {
    const s = accessorySpec({ service: 'hello', name: 'q', accessory: accessorySchema.parse({ image: 'x', host: 'a' }), secrets: {}, network: 'n' });
    expect(s.createOptions.ExposedPorts).toBeUndefined();
    expect(s.createOptions.HostConfig?.PortBindings).toBeUndefined();
    expect(s.directories).toBeUndefined();
  });

  it('hashes the config but not secret values, so a changed image shows and a label leaks nothing', () => {
    const rotated = accessorySpec({ service: 'hello', name: 'kv', accessory: kv, secrets: { KV_TOKEN: 'other' }, network: 'gangway' });
    expect(rotated.specHash).toBe(spec.specHash);
    const newImage = accessorySpec({ service: 'hello', name: 'kv', accessory: { ...kv, image: 'registry:5000/x:2' }, secrets: { KV_TOKEN: 's3cret' }, network: 'gangway' });
    expect(newImage.specHash).not.toBe(spec.specHash);
  });

  it('refuses labels in gangway\'s namespace', () => {
    expect(() => accessorySpec({ service: 'h', name: 'kv', accessory: { ...kv, labels: { 'gangway.managed': 'app' } }, secrets: { KV_TOKEN: 't' }, network: 'n' })).toThrow(/reserved/);
  });
});

describe('accessory directories', () => {
  it('places relative sources under the accessory\'s folder and keeps absolute ones', () => {
    expect(resolveDirectories('hello', 'db', ['data:/var/lib/db', './conf:/etc/db:ro', '/srv/db:/backup'])).toEqual([
      { source: '/var/lib/gangway/accessories/hello-db/data', target: '/var/lib/db' },
      { source: '/var/lib/gangway/accessories/hello-db/conf', target: '/etc/db', mode: 'ro' },
      { source: '/srv/db', target: '/backup' },
    ]);
  });

  it('refuses a source that climbs out with ..', () => {
    expect(() => resolveDirectories('hello', 'db', ['../x:/x'])).toThrow(/leaves/);
  });

  it('creates them with one mkdir -p', () => {
    expect(directoriesCommand('hello', 'db', ['data:/d', 'a b:/e'])).toEqual({ command: "mkdir -p /var/lib/gangway/accessories/hello-db/data '/var/lib/gangway/accessories/hello-db/a b'" });
    expect(directoriesCommand('hello', 'db', [])).toBeUndefined();
  });
});

describe('sandbox flavours', () => {
  it('keeps docker-host as the default and lets a host override the sandbox\'s flavour', async () => {
    const { flavourOf } = await import('../../src/sandbox/index.js');
    expect(flavourOf({}, 'vm1')).toBe('docker-host');
    expect(flavourOf({ flavour: 'bare-host' }, 'vm1')).toBe('bare-host');
    expect(flavourOf({ flavour: 'bare-host', hostFlavours: { vm2: 'docker-host' } }, 'vm2')).toBe('docker-host');
  });

  it('makes the generated config trust the sandbox registry when a host is bare', async () => {
    const { configFragmentYaml } = await import('../../src/sandbox/files.js');
    const host = { name: 'vm1', containerId: 'x', address: '127.0.0.1', sshPort: 2201, httpPort: 8001 };
    const base = { keyPath: '/k', knownHostsPath: '/kh' };
    expect(configFragmentYaml({ ...base, hosts: [host] })).not.toContain('insecure_registries');
    expect(configFragmentYaml({ ...base, hosts: [{ ...host, flavour: 'bare-host' }] })).toContain('insecure_registries:\n    - registry:5000');
  });

  it('debootstraps the bare flavour without docker.io but with sudo', async () => {
    const { BARE_HOST_ROOTFS } = await import('../../src/sandbox/rootfs.js');
    expect(BARE_HOST_ROOTFS.packages).toContain('sudo');
    expect(BARE_HOST_ROOTFS.packages).not.toContain('docker.io');
  });
});

describe('accessory-only hosts', () => {
  it('are not reported as unused by any role', async () => {
    const { semanticProblems } = await import('../../src/config/semantics.js');
    const input = { servers: { web: { hosts: ['a'] } }, hosts: { db1: { port: 22 } }, accessories: { db: { image: 'p', host: 'db1' } } };
    expect(semanticProblems(input, () => undefined)).toEqual([]);
  });
});
