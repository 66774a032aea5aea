// How to reach one host, and where each part of the answer came from: gangway.yml (hosts.<name>.*,
// then ssh.* keys the file sets), then the ssh config file, then gangway's defaults. Pure: the
// ssh config file arrives parsed, and `gangway config` shows the sources this returns.
import { dirname, isAbsolute, resolve } from 'node:path';
import { configError } from '../errors.js';
import type { HostTarget, JumpTarget } from '../hosts/host.js';
import type { Config } from './schema.js';
import { sshConfigFor, type SshConfigFile, type SshConfigValue } from './ssh-config.js';

export type SettingSource =
  | { from: 'gangway'; key: string; file?: string; line?: number }
  | { from: 'ssh-config'; directive: string; file: string; line: number }
  | { from: 'default' };

/** `ssh.user`, `hosts.web1.port (gangway.yml:12)`, `/home/me/.ssh/config:4 (HostName)` or `default`. */
export function describeSource(s: SettingSource | undefined): string {
  if (!s || s.from === 'default') return 'default';
  if (s.from === 'ssh-config') return `${s.file}:${s.line} (${s.directive})`;
  return s.file ? `${s.key} (${s.file}:${s.line})` : s.key;
}

export const SETTING_NAMES = ['address', 'port', 'user', 'identity', 'identities_only', 'keepalive_interval', 'proxy'] as const;
export type SettingName = (typeof SETTING_NAMES)[number];

export interface HostConnection {
  target: HostTarget;
  sources: Partial<Record<SettingName, SettingSource>>;
  /** The bastion's own settings and sources, when the host is reached through one. */
  bastion?: { sources: Partial<Record<SettingName, SettingSource>> };
}

export interface ConnectionContext {
  sshConfig?: SshConfigFile;
  /** The ssh.* keys gangway.yml sets; without it every ssh.* value counts as set. */
  explicitSsh?: ReadonlySet<string>;
  /** Where a gangway.yml key sits, for the sources shown. */
  where?: (path: string[]) => { file: string; line: number } | undefined;
  localUser?: string;
}

const LOCAL_HOST = 'localhost';
const PROXY_SPEC_RE = /^(?:([^@\s]+)@)?([A-Za-z0-9_.-]+)(?::(\d{1,5}))?$/;

export interface ProxySpec {
  user?: string;
  host: string;
  port?: number;
}

/** `[user@]host[:port]`; undefined for none. A list (a chain of bastions) is refused by the caller. */
export function parseProxySpec(spec: string): ProxySpec | undefined | 'invalid' {
  const text = spec.trim();
  if (text === '' || text.toLowerCase() === 'none') return undefined;
  const m = PROXY_SPEC_RE.exec(text);
  if (!m) return 'invalid';
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return 'invalid';
  return { host: m[2]!, ...(m[1] ? { user: m[1] } : {}), ...(port ? { port } : {}) };
}

/** OpenSSH's %-tokens that make sense here; an unknown one is left as written. */
function expandTokens(text: string, tokens: Record<string, string>): string {
  return text.replace(/%(.)/g, (all, t: string) => (t === '%' ? '%' : tokens[t] ?? all));
}

function sshConfigIdentity(v: SshConfigValue, tokens: Record<string, string>, home: string): string {
  const expanded = expandTokens(v.value, tokens);
  const tilde = expanded === '~' ? home : expanded.startsWith('~/') ? `${home}${expanded.slice(1)}` : expanded;
  // A relative path is taken from the ssh config file's folder (OpenSSH would use the cwd).
  return isAbsolute(tilde) ? tilde : resolve(dirname(v.file), tilde);
}

function fromSshConfig(v: SshConfigValue, directive: string): SettingSource {
  return { from: 'ssh-config', directive, file: v.file, line: v.line };
}

function badSshValue(v: SshConfigValue, directive: string, expected: string): Error {
  return configError(`${v.file}:${v.line}: ${directive} ${JSON.stringify(v.value)}: expected ${expected}`, { hint: 'fix the ssh config file, or set ssh.config: false to ignore it' });
}

interface Overrides {
  user?: { value: string; source: SettingSource };
  port?: { value: number; source: SettingSource };
}

/** One host's settings without its bastion; `expandPath` resolves gangway.yml paths. */
function resolveDirect(config: Config, name: string, ctx: ConnectionContext, expandPath: (p: string) => string, home: string, over: Overrides = {}): {
  target: Omit<HostTarget, 'jump' | 'local'>;
  sources: Partial<Record<SettingName, SettingSource>>;
  proxy: { spec: string | false; source: SettingSource } | undefined;
} {
  const details = config.hosts[name] ?? {};
  const gw = (key: string, path: string[]): SettingSource => ({ from: 'gangway', key, ...(ctx.where?.(path) ?? {}) });
  const hostKey = (k: string): SettingSource => gw(`hosts.${name}.${k}`, ['hosts', name, k]);
  const sshSet = (k: string) => ctx.explicitSsh === undefined || ctx.explicitSsh.has(k);
  const sshKey = (k: string): SettingSource => gw(`ssh.${k}`, ['ssh', k]);
  const sc = ctx.sshConfig ? sshConfigFor(ctx.sshConfig, name) : {};
  const sources: Partial<Record<SettingName, SettingSource>> = {};

  let address = name;
  if (details.address !== undefined) [address, sources.address] = [details.address, hostKey('address')];
  else if (sc.hostname) [address, sources.address] = [expandTokens(sc.hostname[0]!.value, { h: name }), fromSshConfig(sc.hostname[0]!, 'HostName')];
  else sources.address = { from: 'default' };

  let port = config.ssh.port;
  if (over.port) [port, sources.port] = [over.port.value, over.port.source];
  else if (details.port !== undefined) [port, sources.port] = [details.port, hostKey('port')];
  else if (sshSet('port')) sources.port = sshKey('port');
  else if (sc.port) {
    const v = sc.port[0]!;
    const n = Number(v.value);
    if (!/^\d+$/.test(v.value) || n < 1 || n > 65535) throw badSshValue(v, 'Port', 'a port number from 1 to 65535');
    [port, sources.port] = [n, fromSshConfig(v, 'Port')];
  } else sources.port = { from: 'default' };

  let user = config.ssh.user;
  if (over.user) [user, sources.user] = [over.user.value, over.user.source];
  else if (details.user !== undefined) [user, sources.user] = [details.user, hostKey('user')];
  else if (sshSet('user')) sources.user = sshKey('user');
  else if (sc.user) [user, sources.user] = [sc.user[0]!.value, fromSshConfig(sc.user[0]!, 'User')];
  else sources.user = { from: 'default' };

  let identities: string[] = [];
  if (details.identity !== undefined) [identities, sources.identity] = [[expandPath(details.identity)], hostKey('identity')];
  else if (config.ssh.identity !== undefined && sshSet('identity')) [identities, sources.identity] = [[expandPath(config.ssh.identity)], sshKey('identity')];
  else if (sc.identityfile) {
    const tokens = { h: address, r: user, d: home, u: ctx.localUser ?? '' };
    identities = [...new Set(sc.identityfile.map((v) => sshConfigIdentity(v, tokens, home)))];
    sources.identity = fromSshConfig(sc.identityfile[0]!, 'IdentityFile');
  } else sources.identity = { from: 'default' };

  let identitiesOnly = false;
  if (sc.identitiesonly) {
    const v = sc.identitiesonly[0]!;
    if (!/^(yes|no)$/i.test(v.value)) throw badSshValue(v, 'IdentitiesOnly', 'yes or no');
    [identitiesOnly, sources.identities_only] = [v.value.toLowerCase() === 'yes', fromSshConfig(v, 'IdentitiesOnly')];
  } else sources.identities_only = { from: 'default' };

  let keepaliveIntervalMs: number | undefined;
  if (sshSet('keepalive_interval')) sources.keepalive_interval = sshKey('keepalive_interval');
  else if (sc.serveraliveinterval) {
    const v = sc.serveraliveinterval[0]!;
    if (!/^\d+$/.test(v.value)) throw badSshValue(v, 'ServerAliveInterval', 'a whole number of seconds');
    [keepaliveIntervalMs, sources.keepalive_interval] = [Number(v.value) * 1000, fromSshConfig(v, 'ServerAliveInterval')];
  } else sources.keepalive_interval = { from: 'default' };

  let proxy: { spec: string | false; source: SettingSource } | undefined;
  if (details.proxy !== undefined) proxy = { spec: details.proxy, source: hostKey('proxy') };
  else if (config.ssh.proxy !== undefined && sshSet('proxy')) proxy = { spec: config.ssh.proxy, source: sshKey('proxy') };
  else if (sc.proxyjump) proxy = { spec: sc.proxyjump[0]!.value, source: fromSshConfig(sc.proxyjump[0]!, 'ProxyJump') };

  const target = {
    name,
    address,
    port,
    user,
    ...(identities[0] ? { identityFile: identities[0] } : {}),
    ...(identities.length > 1 ? { identityFiles: identities } : {}),
    ...(identitiesOnly ? { identitiesOnly } : {}),
    ...(keepaliveIntervalMs !== undefined ? { keepaliveIntervalMs } : {}),
  };
  return { target, sources, proxy };
}


/** A host's target (with its bastion, if any) and the source of every setting. */
export function resolveConnection(config: Config, name: string, ctx: ConnectionContext, expandPath: (p: string) => string, home: string): HostConnection {
  if (name === LOCAL_HOST) {
    const { target } = resolveDirect(config, name, {}, expandPath, home);
    return { target: { ...target, local: true }, sources: {} };
  }
  const direct = resolveDirect(config, name, ctx, expandPath, home);
  const sources = { ...direct.sources, proxy: direct.proxy?.source ?? { from: 'default' } };
  const spec = direct.proxy?.spec === false || direct.proxy === undefined ? undefined : direct.proxy.spec;
  const where = direct.proxy ? describeSource(direct.proxy.source) : '';
  if (spec !== undefined && spec.includes(',')) {
    throw configError(`${where}: proxy ${JSON.stringify(spec)} for ${name} is a chain of bastions; gangway reaches a host through one bastion only`, { host: name, hint: 'name a single bastion (user@host[:port])' });
  }
  const parsed = spec === undefined ? undefined : parseProxySpec(spec);
  if (parsed === 'invalid') throw configError(`${where}: proxy ${JSON.stringify(spec)} for ${name}: expected user@host[:port] or none`, { host: name });
  if (!parsed) return { target: { ...direct.target, local: false }, sources };

  const specSource = direct.proxy!.source;
  const bastion = resolveDirect(config, parsed.host, ctx, expandPath, home, {
    ...(parsed.user ? { user: { value: parsed.user, source: specSource } } : {}),
    ...(parsed.port ? { port: { value: parsed.port, source: specSource } } : {}),
  });
  // A `Host *` ProxyJump also matches the bastion itself; that one means "no hop", any other a chain.
  const own = bastion.proxy && bastion.proxy.spec !== false ? parseProxySpec(bastion.proxy.spec) : undefined;
  if (own && own !== 'invalid' && own.host !== parsed.host) {
    throw configError(`${describeSource(bastion.proxy!.source)}: bastion ${parsed.host} (for ${name}) has a bastion of its own (${bastion.proxy!.spec as string}); gangway reaches a host through one bastion only`, { host: name });
  }
  const jump: JumpTarget = bastion.target;
  return { target: { ...direct.target, local: false, jump }, sources, bastion: { sources: bastion.sources } };
}
