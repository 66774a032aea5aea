// Turns the config's host targets into connected Hosts: one connection per host for a whole
// command, opened in parallel, with a per-host error instead of one failure stopping all.
import { GangwayError, messageOf, operationError } from '../errors.js';
import type { Events } from '../events/events.js';
import type { Host, HostStats, HostTarget } from './host.js';

export type { HostTarget } from './host.js';
import { LocalHost } from './local-host.js';
import { SshHost } from './ssh-host.js';

export interface SshConnectOptions {
  knownHostsPath: string;
  trustOnFirstUse: boolean;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
}

export interface OpenHostsOptions {
  events?: Events;
  env?: NodeJS.ProcessEnv;
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

export function createHost(target: HostTarget, ssh: SshConnectOptions, opts: OpenHostsOptions = {}): Host {
  if (target.local) return new LocalHost(target.name);
  return new SshHost({ ...target, ...ssh, ...opts });
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

  constructor(targets: HostTarget[], private readonly ssh: SshConnectOptions, { beforeConnect, ...opts }: HostPoolOptions = {}) {
    for (const t of targets) this.targets.set(t.name, t);
    this.opts = opts;
    this.beforeConnect = beforeConnect ?? (() => Promise.resolve());
  }

  /** Resolves once `beforeConnect` passed (it runs on the first call); rejects with its error. */
  ready(): Promise<void> {
    this.beforeConnectRun ??= this.beforeConnect();
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
    const host = createHost(target, this.ssh, this.opts);
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

  async closeAll(): Promise<void> {
    await Promise.all(this.created.map((h) => h.close().catch(() => {})));
    this.opening.clear();
    this.created.length = 0;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeAll();
  }
}
