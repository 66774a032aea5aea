// What every stage of one deploy shares, built once by runDeploy and passed whole: the session,
// the connected hosts, which of them run a proxy (and that proxy, built once from the config),
// and the image being deployed.
import type { Host } from '../hosts/host.js';
import type { ProxyTarget } from '../proxy/target.js';
import type { DeployTarget } from './phases.js';
import type { SharedUptestListing } from '../gates/gates.js';
import { proxyTarget, type Session } from '../fleet/session.js';

export interface DeployRun {
  s: Session;
  hosts: Map<string, Host>;
  /** Hosts of proxied roles. */
  proxied: Set<string>;
  /** The proxy of every connected proxied host. */
  proxies: Map<string, ProxyTarget>;
  /** The image reference of the version being deployed. */
  ref: string;
  /** Removals the boots left for after the switch (the uptests' containers); never rejected. */
  cleanups: Promise<void>[];
  /** The image's id on each host, as the pull found it. */
  imageIds: Map<string, string>;
  /** Per role, its uptests listed once from the image on one of its hosts, and which (shareUptestListings). */
  uptestListings: Map<string, { host: string; listing: Promise<SharedUptestListing> }>;
}

/** Records a failure (of a target, when given) and aborts the boots still running. */
export type Fail = (err: unknown, t?: DeployTarget) => void;

export function newDeployRun(s: Session, hosts: Map<string, Host>, ref: string): DeployRun {
  const proxied = new Set(s.loaded.roles.filter((r) => r.proxied).flatMap((r) => r.hosts));
  const proxies = new Map<string, ProxyTarget>();
  for (const [name, host] of hosts) if (proxied.has(name)) proxies.set(name, proxyTarget(s, host));
  return { s, hosts, proxied, proxies, ref, cleanups: [], imageIds: new Map(), uptestListings: new Map() };
}

export const hostOf = (run: DeployRun, name: string): Host => run.hosts.get(name)!;

/** The proxy of a proxied target's host. */
export function proxyOf(run: DeployRun, hostName: string): ProxyTarget {
  const pt = run.proxies.get(hostName);
  if (!pt) throw new Error(`no proxy known for ${hostName}: it is not a host of a proxied role`);
  return pt;
}

/** Awaits every cleanup the run started; one may hand on another (the shared uptest listing's probe removal). */
export async function settleCleanups(run: DeployRun): Promise<void> {
  while (run.cleanups.length > 0) await Promise.all(run.cleanups.splice(0));
}
