// What the deploy-family commands share: the loaded config, its secrets registered for redaction,
// and one pool of host connections reused for the whole command. Built from a config already
// loaded (by the CLI, or by rehearse for its throwaway hosts), never from a command context.
import type { LoadedConfig } from '../config/load.js';
import type { ResolvedRole } from '../config/resolve.js';
import { expandPath } from '../config/resolve.js';
import type { Events } from '../events/events.js';
import { performer, runHook, warnUnknownHooks, type HookContext } from '../hooks/hooks.js';
import type { Host, HostTarget } from '../hosts/host.js';
import type { Credentials } from '../hosts/credentials.js';
import { HostPool, sshConnectOptions } from '../hosts/pool.js';
import { proxyTargetFromConfig } from '../config/proxy-target.js';
import type { ProxyTarget } from '../proxy/target.js';
import { deploymentOf, type Deployment } from '../state/deployment.js';

export interface Session {
  loaded: LoadedConfig;
  /** Whose state on the hosts this command reads and writes: the service and its -d destination. */
  deployment: Deployment;
  pool: HostPool;
  events: Events;
  /** Secret env values by name (env.secret), for containers and uptests. */
  envSecret: Record<string, string>;
  /** The command's name (GANGWAY_COMMAND for hooks). */
  command: string;
  /** The version the command works on, once it is known (GANGWAY_VERSION for pre-connect). */
  version?: string;
  /** The pre-connect hook, once per command, before its first connection: every pool of the session awaits it. */
  beforeConnect(): Promise<void>;
  close(): Promise<void>;
}

/** A pool for these hosts with the config's ssh: settings (paths relative to the config file). */
export function hostPoolFor(loaded: Pick<LoadedConfig, 'config' | 'baseDir'>, targets: HostTarget[], events: Events, beforeConnect?: () => Promise<void>, credentials?: Credentials): HostPool {
  return new HostPool(targets, sshConnectOptions(loaded.config.ssh, (p) => expandPath(p, loaded.baseDir)), { events, ...(beforeConnect ? { beforeConnect } : {}), ...(credentials ? { credentials } : {}) });
}

/** What hooks are told about a command (GANGWAY_*): every host of the config unless named. */
export function hookContextFor(loaded: LoadedConfig, command: string, version: string | undefined, hosts: string[] = loaded.hostTargets.map((t) => t.name)): HookContext {
  return {
    service: loaded.config.service,
    version: version ?? '',
    hosts,
    roles: loaded.roles.map((r) => r.name),
    performer: performer(),
    command,
    ...(loaded.destination ? { destination: loaded.destination } : {}),
  };
}

/**
 * The pre-connect hook as a one-shot for HostPool's beforeConnect: it runs before the command
 * contacts any host, at most once, and its failure stops the command there. The context is read
 * when it runs, so a deploy's version (resolved after the session opened) is in it.
 */
export function preConnectOnce(loaded: LoadedConfig, events: Events, context: () => HookContext): () => Promise<void> {
  let run: Promise<void> | undefined;
  return () => (run ??= (async () => {
    await warnUnknownHooks(loaded.baseDir, events);
    await runHook('pre-connect', context(), { projectDir: loaded.baseDir, events });
  })());
}

/** Who opens the session: the command's name (for hooks) and the bus its events go to. */
export interface SessionOwner {
  command: string;
  events: Events;
}

export function openSession(loaded: LoadedConfig, ctx: SessionOwner): Session {
  const envSecret: Record<string, string> = {};
  for (const name of loaded.config.env.secret) envSecret[name] = loaded.secrets[name] ?? '';
  // Read when pre-connect runs, after a deploy set session.version.
  const beforeConnect = preConnectOnce(loaded, ctx.events, () => hookContextFor(loaded, ctx.command, session.version));
  const pool = hostPoolFor(loaded, loaded.hostTargets, ctx.events, beforeConnect);
  const session: Session = { loaded, deployment: deploymentOf(loaded), pool, events: ctx.events, envSecret, command: ctx.command, beforeConnect, close: () => pool.closeAll() };
  return session;
}

export const primaryRoleOf = (s: Session): ResolvedRole => s.loaded.roles.find((r) => r.primary) ?? s.loaded.roles[0]!;
/** The host that holds the lock: the first host of the primary role. */
export const primaryHostOf = (s: Session): string => primaryRoleOf(s).hosts[0]!;
export const imageRef = (s: Session, version: string): string => `${s.loaded.config.image}:${version}`;

export function proxyTarget(s: Session, host: Host): ProxyTarget {
  return proxyTargetFromConfig(host, s.loaded, s.events);
}
