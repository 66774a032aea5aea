import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { configFragmentYaml, knownHostsLine, knownHostsText, sandboxConfigYaml } from '../../src/sandbox/files.js';
import { configSchema } from '../../src/config/schema.js';

const hosts = [
  { name: 'vm1', containerId: 'c1', address: '127.0.0.1', sshPort: 32770, httpPort: 32769 },
  { name: 'vm2', containerId: 'c2', address: '127.0.0.1', sshPort: 32772, httpPort: 32771 },
  { name: 'vm3', containerId: 'c3', address: '127.0.0.1', sshPort: 32774, httpPort: 32773 },
];
const paths = { keyPath: '/s/id_ed25519', knownHostsPath: '/s/known_hosts' };
const images = { proxy: 'registry:5000/gangway/haproxy:aaa', busybox: 'registry:5000/gangway/busybox:bbb', hello: 'registry:5000/gangway/hello:ccc', acme: 'registry:5000/gangway/acme:ddd' };

describe('known_hosts', () => {
  it('writes [address]:port for a non-default port and drops the key comment', () => {
    expect(knownHostsLine({ address: '127.0.0.1', port: 32770, publicKey: 'ssh-ed25519 AAAAkey root@vm1\n' })).toBe('[127.0.0.1]:32770 ssh-ed25519 AAAAkey');
  });

  it('writes the bare address for port 22', () => {
    expect(knownHostsLine({ address: '10.0.0.5', port: 22, publicKey: 'ssh-ed25519 AAAAkey' })).toBe('10.0.0.5 ssh-ed25519 AAAAkey');
  });

  it('has one line per host', () => {
    const text = knownHostsText(hosts.map((h) => ({ address: h.address, port: h.sshPort, publicKey: `ssh-ed25519 K${h.name}` })));
    expect(text.trimEnd().split('\n')).toHaveLength(3);
  });

  it('refuses something that is not a public key', () => {
    expect(() => knownHostsLine({ address: 'a', port: 1, publicKey: 'garbage' })).toThrow(/public key/);
  });
});

describe('config fragment', () => {
  it('holds hosts: and ssh: pointing at the key and known_hosts', () => {
    const parsed = YAML.parse(configFragmentYaml({ hosts, ...paths })) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['hosts', 'ssh']);
    expect(parsed.hosts).toEqual({
      vm1: { address: '127.0.0.1', port: 32770 },
      vm2: { address: '127.0.0.1', port: 32772 },
      vm3: { address: '127.0.0.1', port: 32774 },
    });
    expect(parsed.ssh).toEqual({ user: 'root', identity: '/s/id_ed25519', known_hosts: '/s/known_hosts', config: false });
  });
});

describe('sandbox gangway.yml', () => {
  it('is a valid config deploying hello: web on all hosts but the last, workers on the last', () => {
    const config = configSchema.parse(YAML.parse(sandboxConfigYaml({ hosts, ...paths, images })));
    expect(config.image).toBe('registry:5000/gangway/hello');
    expect(config.servers.web?.hosts).toEqual(['vm1', 'vm2']);
    expect(config.servers.workers).toMatchObject({ hosts: ['vm3'], cmd: ['/app/worker'] });
    expect(config.proxy.image).toBe(images.proxy);
    expect(config.ssh.known_hosts).toBe('/s/known_hosts');
  });

  it('names the sandbox\'s ACME image, so proxy.ssl: true needs no image of its own; a sandbox.json without one names none', () => {
    expect(configSchema.parse(YAML.parse(sandboxConfigYaml({ hosts, ...paths, images }))).proxy.acme?.image).toBe(images.acme);
    const { acme: _acme, ...older } = images;
    expect(configSchema.parse(YAML.parse(sandboxConfigYaml({ hosts, ...paths, images: older }))).proxy.acme).toBeUndefined();
  });

  it('puts both roles on the only host of a one-host sandbox', () => {
    const config = configSchema.parse(YAML.parse(sandboxConfigYaml({ hosts: hosts.slice(0, 1), ...paths, images })));
    expect(config.servers.web?.hosts).toEqual(['vm1']);
    expect(config.servers.workers?.hosts).toEqual(['vm1']);
  });
});
