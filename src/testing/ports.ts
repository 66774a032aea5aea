// Published ports: how a container port maps to a port on 127.0.0.1, read from `inspect`.
import type { ContainerInspectInfo } from 'dockerode';
import type { PortSpec } from './definitions.js';

/** '8080' / 8080 / '8080/tcp' -> '8080/tcp', the Engine API's key for a port. */
export function portKey(port: PortSpec | string): string {
  const text = String(port);
  return text.includes('/') ? text : `${text}/tcp`;
}

/** Container port key -> host port, for every published port bound on the host. */
export function publishedPorts(info: Pick<ContainerInspectInfo, 'NetworkSettings'>): Map<string, number> {
  const out = new Map<string, number>();
  const ports = (info.NetworkSettings?.Ports ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
  for (const [key, bindings] of Object.entries(ports)) {
    const hostPort = bindings?.find((b) => b.HostPort)?.HostPort;
    if (hostPort) out.set(key, Number(hostPort));
  }
  return out;
}

/** The published container port keys sorted by number (then protocol): '80/tcp' before '443/tcp'. */
export function sortedPortKeys(keys: Iterable<string>): string[] {
  const parse = (k: string) => {
    const [num, proto = 'tcp'] = k.split('/');
    return { num: Number(num), proto };
  };
  return [...keys].sort((a, b) => {
    const pa = parse(a);
    const pb = parse(b);
    return pa.num - pb.num || pa.proto.localeCompare(pb.proto);
  });
}
