// The same-state proof: two snapshots of the same host (fresh, upgraded) -> every difference,
// in words that name the host, the thing and both sides.
import type { ContainerSnapshot, HostSnapshot } from './snapshot.js';

export interface Difference {
  host: string;
  /** container, network, volume, proxy, file */
  kind: string;
  subject: string;
  message: string;
}

export interface SideNames {
  a: string;
  b: string;
}

const DEFAULT_SIDES: SideNames = { a: 'fresh', b: 'upgrade' };

function setDiff(host: string, kind: string, a: string[], b: string[], sides: SideNames): Difference[] {
  const out: Difference[] = [];
  for (const x of a) if (!b.includes(x)) out.push({ host, kind, subject: x, message: `${kind} ${x} only on ${sides.a}` });
  for (const x of b) if (!a.includes(x)) out.push({ host, kind, subject: x, message: `${kind} ${x} only on ${sides.b}` });
  return out;
}

function containerDiff(host: string, a: ContainerSnapshot, b: ContainerSnapshot, sides: SideNames): Difference[] {
  const out: Difference[] = [];
  const say = (what: string, av: unknown, bv: unknown) =>
    out.push({ host, kind: 'container', subject: a.name, message: `container ${a.name}: ${what} not the same (${sides.a}: ${JSON.stringify(av)}, ${sides.b}: ${JSON.stringify(bv)})` });
  if (a.image !== b.image) say('image', a.image, b.image);
  for (const key of new Set([...Object.keys(a.labels), ...Object.keys(b.labels)])) {
    if (a.labels[key] !== b.labels[key]) say(`label ${key}`, a.labels[key] ?? null, b.labels[key] ?? null);
  }
  if (a.envKeys.join() !== b.envKeys.join()) say('env keys', a.envKeys, b.envKeys);
  else if (a.envHash !== b.envHash) out.push({ host, kind: 'container', subject: a.name, message: `container ${a.name}: env values differ (keys ${a.envKeys.join(', ')})` });
  if (a.mounts.join() !== b.mounts.join()) say('mounts', a.mounts, b.mounts);
  if (a.networks.join() !== b.networks.join()) say('networks', a.networks, b.networks);
  return out;
}

/** Pure: every difference between two snapshots of one host. */
export function diffHost(a: HostSnapshot, b: HostSnapshot, sides: SideNames = DEFAULT_SIDES): Difference[] {
  const host = a.host;
  const out: Difference[] = [];
  const names = (s: HostSnapshot) => s.containers.map((c) => c.name);
  out.push(...setDiff(host, 'container', names(a), names(b), sides));
  for (const ca of a.containers) {
    const cb = b.containers.find((c) => c.name === ca.name);
    if (cb) out.push(...containerDiff(host, ca, cb, sides));
  }
  out.push(...setDiff(host, 'network', a.networks, b.networks, sides));
  out.push(...setDiff(host, 'volume', a.volumes, b.volumes, sides));
  if ((a.proxyServers === undefined) !== (b.proxyServers === undefined)) {
    out.push({ host, kind: 'proxy', subject: 'proxy', message: `proxy only on ${a.proxyServers ? sides.a : sides.b}` });
  } else if (a.proxyServers && b.proxyServers) {
    out.push(...setDiff(host, 'proxy server', a.proxyServers, b.proxyServers, sides));
  }
  const paths = [...new Set([...Object.keys(a.files), ...Object.keys(b.files)])].sort();
  for (const p of paths) {
    const [fa, fb] = [a.files[p], b.files[p]];
    if (fa === fb) continue;
    if (fa === undefined) out.push({ host, kind: 'file', subject: p, message: `file ${p} only on ${sides.b}` });
    else if (fb === undefined) out.push({ host, kind: 'file', subject: p, message: `file ${p} only on ${sides.a}` });
    else out.push({ host, kind: 'file', subject: p, message: `file ${p} differs (${fa === 'dir' ? 'a directory' : 'content'} on ${sides.a}, ${fb === 'dir' ? 'a directory' : 'content'} on ${sides.b})` });
  }
  return out;
}

/** Pure: hosts matched by name; a host missing on one side is a difference too. */
export function diffSnapshots(a: HostSnapshot[], b: HostSnapshot[], sides: SideNames = DEFAULT_SIDES): Difference[] {
  const out: Difference[] = [];
  for (const sa of a) {
    const sb = b.find((s) => s.host === sa.host);
    if (!sb) out.push({ host: sa.host, kind: 'host', subject: sa.host, message: `no snapshot of ${sa.host} on ${sides.b}` });
    else out.push(...diffHost(sa, sb, sides));
  }
  for (const sb of b) if (!a.some((s) => s.host === sb.host)) out.push({ host: sb.host, kind: 'host', subject: sb.host, message: `no snapshot of ${sb.host} on ${sides.a}` });
  return out;
}
