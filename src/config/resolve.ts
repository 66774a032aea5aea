// The resolved view of a valid config: roles in deploy order and one connection target per
// distinct host. Pure, so commands and tests get the same answer.
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { HostTarget } from '../hosts/host.js';
import type { Config } from './schema.js';
import { resolveConnection, type ConnectionContext, type HostConnection } from './connection.js';

export type { HostTarget } from '../hosts/host.js';

export interface ResolvedRole {
  name: string;
  hosts: string[];
  cmd?: string[];
  /** Behind the proxy: the primary role unless the role says otherwise. */
  proxied: boolean;
  primary: boolean;
  /** env.clear of the config with the role's env.clear over it. */
  env: Record<string, string>;
}

/** "~/x" -> "<home>/x"; relative paths are relative to the config file's folder. */
export function expandPath(path: string, baseDir: string, home: string = homedir()): string {
  const expanded = path === '~' ? home : path.startsWith('~/') ? `${home}${path.slice(1)}` : path;
  return isAbsolute(expanded) ? expanded : resolve(baseDir, expanded);
}

function primaryRoleName(config: Config): string {
  return config.primary_role ?? Object.keys(config.servers)[0]!;
}

function resolveRoles(config: Config): ResolvedRole[] {
  const primary = primaryRoleName(config);
  const names = [primary, ...Object.keys(config.servers).filter((n) => n !== primary)];
  return names.map((name) => {
    const role = config.servers[name]!;
    const isPrimary = name === primary;
    return {
      name,
      hosts: [...role.hosts],
      ...(role.cmd ? { cmd: [...role.cmd] } : {}),
      proxied: role.proxy ?? isPrimary,
      primary: isPrimary,
      env: { ...config.env.clear, ...(role.env?.clear ?? {}) },
    };
  });
}

/** Where and how to reach one host named in the config: hosts:, ssh:, then the ssh config file. */
export function hostTargetOf(config: Config, name: string, baseDir: string, home: string = homedir(), ctx: ConnectionContext = {}): HostTarget {
  return resolveConnection(config, name, ctx, (p) => expandPath(p, baseDir, home), home).target;
}

export function resolveConfig(config: Config, baseDir: string, home: string = homedir(), ctx: ConnectionContext = {}): { roles: ResolvedRole[]; hostTargets: HostTarget[]; connections: HostConnection[] } {
  const roles = resolveRoles(config);
  const names = [...new Set(roles.flatMap((r) => r.hosts))];
  const connections = names.map((name) => resolveConnection(config, name, ctx, (p) => expandPath(p, baseDir, home), home));
  return { roles, hostTargets: connections.map((c) => c.target), connections };
}
