// Turns the config's host targets into connected Hosts: one connection per host for a whole
// command, opened in parallel, with a per-host error instead of one failure stopping all.
import { GangwayError, messageOf, operationError } from '../errors.js';
import type { Events } from '../events/events.js';
import type { Host, HostStats, HostTarget } from './host.js';

export type { HostTarget } from './host.js';
import { Credentials } from './credentials.js';
import type { JumpTarget } from './host.js';
import { hostLookupName } from './known-hosts.js';
import { LocalHost } from './local-host.js';
import { SshHost, type Tunnel } from './ssh-host.js';
import { recordPoolStats } from './stats.js';

export interface SshConnectOptions {
  knownHostsPath: string;
  trustOnFirstUse: boolean;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
}

export interface OpenHostsOptions {
  events?: Events;
  env?: NodeJS.ProcessEnv;
  /** Shared by every connection of the command (passphrases asked once); one per pool otherwise. */
  credentials?: Credentials;
}

/** The config's `ssh:` section (durations already in ms) as connect options. */
export function sshConnectOptions(ssh: { known_hosts: string; trust_on_first_use: boolean; connect_timeout: number; keepalive_interval: number }, resolvePath: (p: string) => string = (p) => p): SshConnectOptions {
  return {
    knownHostsPath: resolvePath(ssh.known_hosts),
    trustOnFirstUse: ssh.trust_on_first_use,
    connectTimeoutMs: ssh.connect_timeout,
    keepaliveIntervalMs: ssh.keepalive_interval,
  };
}

/**
 * The bastions of one command: ONE connection to each (by user, address and port), shared by
 * every host behind it, each host a channel that connection forwards.
 */
export class Bastions {
  private readonly hosts = new Map<string, SshHost>();

  constructor(private readonly ssh: SshConnectOptions, private readonly opts: OpenHostsOptions) {}

  tunnelTo(jump: JumpTarget): Tunnel {
    const key = `${jump.user}@${hostLookupName(jump.address, jump.port)}`;
    let host = this.hosts.get(key);
    if (!host) {
      host = new SshHost({ ...this.ssh, ...jump, ...this.opts });
      this.hosts.set(key, host);
    }
    const via = host;
    return { bastion: jump.name, open: (address, port) => via.openTcp(address, port) };
  }

  stats(): Map<string, HostStats> {
    return new Map([...this.hosts.values()].map((h) => [h.name, h.stats()]));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((h) => h.close().catch(() => {})));
    this.hosts.clear();
  }
}

export function createHost(target: HostTarget, ssh: SshConnectOptions, opts: OpenHostsOptions = {}, bastions?: Bastions): Host {
  if (target.local) return new LocalHost(target.name);
  const { jump, local: _local, ...direct } = target;
  if (jump && !bastions) throw new GangwayError('usage', `${target.name} is reached through a bastion; connect it through a HostPool`, { host: target.name });
  // The target's own keepalive (ServerAliveInterval) wins over ssh.keepalive_interval.
  return new SshHost({ ...ssh, ...direct, ...opts, ...(jump ? { tunnel: bastions!.tunnelTo(jump) } : {}) });
}

function asHostError(host: string, err: unknown): GangwayError {
  return err instanceof GangwayError ? err : operationError(`cannot connect to ${host}: ${messageOf(err)}`, { host, step: 'connect', cause: err });
}

export interface OpenedHosts {
  /** Connected hosts, in target order. */
  hosts: Map<string, Host>;
  /** Hosts that could not be reached, each with its own error. */
  failures: Map<string, GangwayError>;
}

/** Connects every target at once; failed hosts are closed and reported, the rest stay open. */
export async function openHosts(targets: HostTarget[], ssh: SshConnectOptions, opts: OpenHostsOptions = {}): Promise<OpenedHosts> {
  const settled = await Promise.all(
    targets.map(async (target) => {
      const host = createHost(target, ssh, opts);
      try {
        await host.connect();
        return { target, host };
      } catch (err) {
        await host.close().catch(() => {});
        return { target, error: asHostError(target.name, err) };
      }
    }),
  );
  const hosts = new Map<string, Host>();
  const failures = new Map<string, GangwayError>();
  for (const s of settled) {
    if (s.host) hosts.set(s.target.name, s.host);
    else failures.set(s.target.name, s.error!);
  }
  return { hosts, failures };
}

export interface HostPoolOptions extends OpenHostsOptions {
  /**
   * Runs before the pool's first connection, once (the pre-connect hook). When it fails, no host
   * is contacted and every get fails with its error.
   */
  beforeConnect?: () => Promise<void>;
}

/**
 * The hosts of one command: each connects on first use and is reused until closeAll. A failed
 * connect is remembered, so every caller asking for that host gets the same error at once.
 */
export class HostPool {
  private readonly targets = new Map<string, HostTarget>();
  private readonly opening = new Map<string, Promise<Host>>();
  private readonly created: Host[] = [];
  private readonly opts: OpenHostsOptions;
  private readonly beforeConnect: () => Promise<void>;
  private beforeConnectRun: Promise<void> | undefined;
  readonly credentials: Credentials;
  private readonly bastions: Bastions;

  constructor(targets: HostTarget[], private readonly ssh: SshConnectOptions, { beforeConnect, ...opts }: HostPoolOptions = {}) {
    for (const t of targets) this.targets.set(t.name, t);
    this.credentials = opts.credentials ?? new Credentials({ env: opts.env ?? process.env });
    this.opts = { ...opts, credentials: this.credentials };
    this.bastions = new Bastions(ssh, this.opts);
    this.beforeConnect = beforeConnect ?? (() => Promise.resolve());
  }

  /**
   * Resolves once `beforeConnect` passed (it runs on the first call) and every host's (and
   * bastion's) credentials are ready, passphrases asked; rejects with the first error, before any
   * host is contacted.
   */
  ready(): Promise<void> {
    this.beforeConnectRun ??= this.beforeConnect().then(() => {
      const targets = [...this.targets.values()].filter((t) => !t.local);
      return this.credentials.prepare([...targets, ...targets.flatMap((t) => (t.jump ? [t.jump] : []))]);
    });
    return this.beforeConnectRun;
  }

  names(): string[] {
    return [...this.targets.keys()];
  }

  get(name: string): Promise<Host> {
    const existing = this.opening.get(name);
    if (existing) return existing;
    const target = this.targets.get(name);
    if (!target) return Promise.reject(new GangwayError('usage', `unknown host ${name}`, { hint: `hosts in the config: ${this.names().join(', ')}` }));
    let host: Host;
    try {
      host = createHost(target, this.ssh, this.opts, this.bastions);
    } catch (err) {
      return Promise.reject(asHostError(name, err));
    }
    this.created.push(host);
    // A beforeConnect error is a GangwayError of its own, which asHostError passes on as it is.
    const opened = this.ready().then(() => host.connect()).then(
      () => host,
      (err: unknown) => { throw asHostError(name, err); },
    );
    opened.catch(() => {});
    this.opening.set(name, opened);
    return opened;
  }

  /** Connects every host in parallel; the per-host outcome, like openHosts. */
  async connectAll(): Promise<OpenedHosts> {
    const hosts = new Map<string, Host>();
    const failures = new Map<string, GangwayError>();
    await Promise.all(
      this.names().map((name) =>
        this.get(name).then(
          (host) => { hosts.set(name, host); },
          (err: unknown) => { failures.set(name, asHostError(name, err)); },
        ),
      ),
    );
    // Map insertion order follows completion; rebuild it in config order.
    const ordered = new Map<string, Host>();
    for (const name of this.names()) if (hosts.has(name)) ordered.set(name, hosts.get(name)!);
    return { hosts: ordered, failures };
  }

  /** Counters of every host this pool created, by name. */
  stats(): Map<string, HostStats> {
    return new Map(this.created.map((h) => [h.name, h.stats()]));
  }

  /** Counters of the bastions this pool connected through, by name. */
  bastionStats(): Map<string, HostStats> {
    return this.bastions.stats();
  }

  async closeAll(): Promise<void> {
    recordPoolStats(this.stats());
    recordPoolStats(this.bastionStats());
    await Promise.all(this.created.map((h) => h.close().catch(() => {})));
    // The hosts' channels ride on the bastions' connections: those close last.
    await this.bastions.closeAll();
    this.opening.clear();
    this.created.length = 0;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeAll();
  }
}
