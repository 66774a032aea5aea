import { describe, expect, it } from 'vitest';
import { challtestsrvCreateOptions, pebbleCreateOptions, sandboxFilter, sandboxNames } from '../../src/sandbox/containers.js';
import { SANDBOX_LABEL } from '../../src/sandbox/types.js';

describe('the sandbox ACME CA containers', () => {
  const id = 't1';
  const pebble = pebbleCreateOptions({ id, image: 'gangway/pebble:x', dnsServer: '172.30.0.9' });
  const dns = challtestsrvCreateOptions({ id, image: 'gangway/pebble:x' });

  it('carry the sandbox label, so sandbox down removes them', () => {
    const [label] = sandboxFilter(id).label;
    for (const c of [pebble, dns]) expect(`${SANDBOX_LABEL}=${c.Labels?.[SANDBOX_LABEL]}`).toBe(label);
    expect([pebble.name, dns.name]).toEqual([sandboxNames(id).pebble, sandboxNames(id).challtestsrv]);
  });

  it('Pebble validates without sleeping and asks challtestsrv for names', () => {
    expect(pebble.Env).toContain('PEBBLE_VA_NOSLEEP=1');
    expect(pebble.Cmd).toEqual(['-dnsserver', '172.30.0.9:8053']);
    expect(pebble.NetworkingConfig?.EndpointsConfig?.[sandboxNames(id).network]?.Aliases).toEqual(['pebble']);
  });

  it('publish only on loopback', () => {
    for (const c of [pebble, dns]) {
      const bindings = Object.values(c.HostConfig?.PortBindings ?? {}) as Array<Array<{ HostIp: string }>>;
      expect(bindings.length).toBeGreaterThan(0);
      for (const b of bindings.flat()) expect(b.HostIp).toBe('127.0.0.1');
    }
  });

  it('challtestsrv serves DNS only, with no default AAAA answer', () => {
    const args = dns.Cmd ?? [];
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    expect([value('-http01'), value('-https01'), value('-tlsalpn01'), value('-defaultIPv6')]).toEqual(['', '', '', '']);
    expect(value('-dns01')).toBe(':8053');
  });
});
