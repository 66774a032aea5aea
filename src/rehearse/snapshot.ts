// What a host looks like after a deploy, reduced to what must be equal between a fresh host and
// an upgraded one: running containers (image, labels, env keys and a hash of the values, mounts,
// networks), gangway's networks and volumes, the proxy's servers and the files gangway manages.
// Things that differ by nature (ids, times, addresses, the audit log, stopped old versions kept
// for rollback) are left out on purpose.
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import type { Host } from '../hosts/host.js';
import { readServers } from '../proxy/live-servers.js';
import type { ProxyTarget } from '../proxy/target.js';
import { GANGWAY_STATE_DIR, shellQuote } from '../state/shell.js';

export interface ContainerSnapshot {
  name: string;
  image: string;
  labels: Record<string, string>;
  envKeys: string[];
  /** sha256 of the sorted KEY=value lines: equal values, without showing them. */
  envHash: string;
  mounts: string[];
  networks: string[];
}

export interface HostSnapshot {
  host: string;
  containers: ContainerSnapshot[];
  networks: string[];
  volumes: string[];
  /** `<server> <state>` of the service's backend; undefined on hosts without a proxy. */
  proxyServers?: string[];
  /** path -> "dir" or the file's sha256. */
  files: Record<string, string>;
}

/** Labels that record when or by which run, not what: they always differ. */
const VOLATILE_LABELS = new Set(['gangway.deployed_at']);
/** Under gangway's state directory: history and transient state, not the host's shape. */
const VOLATILE_STATE = ['audit', 'locks', 'proxy'];

export function envDigest(env: string[]): { keys: string[]; hash: string } {
  const sorted = [...env].sort();
  return {
    keys: sorted.map((e) => e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('='))),
    hash: createHash('sha256').update(sorted.join('\n')).digest('hex').slice(0, 16),
  };
}

/** Pure: one inspected container -> its comparable snapshot. */
export function containerSnapshot(info: Docker.ContainerInspectInfo): ContainerSnapshot {
  const env = envDigest(info.Config.Env ?? []);
  const labels = Object.fromEntries(Object.entries(info.Config.Labels ?? {}).filter(([k]) => !VOLATILE_LABELS.has(k)).sort(([a], [b]) => a.localeCompare(b)));
  return {
    name: info.Name.replace(/^\//, ''),
    image: info.Config.Image,
    labels,
    envKeys: env.keys,
    envHash: env.hash,
    mounts: (info.Mounts ?? []).map((m) => `${m.Type === 'volume' ? m.Name : m.Source}:${m.Destination}${m.RW ? '' : ':ro'}`).sort(),
    networks: Object.keys(info.NetworkSettings.Networks ?? {}).sort(),
  };
}

/** Pure: the one shell line that lists (and hashes) every file under the given paths. */
export function filesCommand(paths: string[]): string {
  const prune = VOLATILE_STATE.map((d) => `-path ${shellQuote(`${GANGWAY_STATE_DIR}/${d}`)} -prune -o`).join(' ');
  const roots = paths.map(shellQuote).join(' ');
  return `for root in ${roots}; do [ -e "$root" ] || continue; find "$root" ${prune} -print; done 2>/dev/null | sort -u | while IFS= read -r p; do if [ -d "$p" ]; then echo "dir $p"; elif [ -f "$p" ]; then echo "$(sha256sum < "$p" | cut -c1-64) $p"; fi; done`;
}

/** Pure: the output of filesCommand -> path -> "dir" | sha256. */
export function parseFiles(stdout: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    files[line.slice(space + 1)] = line.slice(0, space);
  }
  return files;
}

export interface SnapshotOptions {
  service: string;
  proxy?: ProxyTarget;
  /** Files named in the verify spec, besides gangway's state and the app's bind mounts. */
  extraPaths?: string[];
}

export async function snapshotHost(host: Host, opts: SnapshotOptions): Promise<HostSnapshot> {
  const docker = await host.docker();
  const listed = await docker.listContainers({ filters: { label: ['gangway.managed'] } });
  const infos = await Promise.all(listed.map((c) => docker.getContainer(c.Id).inspect()));
  const containers = infos.map(containerSnapshot).sort((a, b) => a.name.localeCompare(b.name));
  const networks = (await docker.listNetworks({ filters: { label: ['gangway.managed'] } })).map((n) => n.Name).sort();
  const volumes = ((await docker.listVolumes()).Volumes ?? []).map((v) => v.Name).filter((n) => containers.some((c) => c.mounts.some((m) => m.startsWith(`${n}:`)))).sort();
  const bindSources = infos.flatMap((i) => (i.Mounts ?? []).filter((m) => m.Type === 'bind' && !m.Source.startsWith(`${GANGWAY_STATE_DIR}/proxy`)).map((m) => m.Source));
  const paths = [...new Set([GANGWAY_STATE_DIR, ...bindSources, ...(opts.extraPaths ?? [])])].sort();
  const listing = await host.exec(filesCommand(paths), { timeoutMs: 60_000 });
  // A server in maint is on its way out (HAProxy 2.6 keeps one loaded from the file until the
  // proxy restarts): not part of the state a deploy leaves.
  const proxyServers = opts.proxy ? (await readServers(opts.proxy)).filter((s) => s.state !== 'maint').map((s) => `${s.name} ${s.state}`).sort() : undefined;
  return { host: host.name, containers, networks, volumes, ...(proxyServers ? { proxyServers } : {}), files: parseFiles(listing.stdout) };
}
