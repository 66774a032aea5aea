// What `gangway config` shows of a host's connection: each setting, its value and where it came
// from, as rows both the human and the JSON output use.
import type { HostTarget, JumpTarget } from '../hosts/host.js';
import { describeSource, type HostConnection, type SettingName } from './connection.js';

export interface SettingRow {
  setting: SettingName;
  value: string | number | boolean | string[] | null;
  /** `ssh.user`, `hosts.web1.port (gangway.yml:12)`, `/home/me/.ssh/config:4 (HostName)` or `default`. */
  source: string;
}

export interface ConnectionView {
  host: string;
  local: boolean;
  settings: SettingRow[];
  bastion?: { name: string; settings: SettingRow[] };
}

function rows(t: HostTarget | JumpTarget, sources: HostConnection['sources'], keepaliveDefaultMs: number, proxy?: string): SettingRow[] {
  const identity = t.identityFiles ?? (t.identityFile ? [t.identityFile] : []);
  const values: Record<SettingName, SettingRow['value']> = {
    address: t.address,
    port: t.port,
    user: t.user,
    identity: identity.length === 0 ? null : identity.length === 1 ? identity[0]! : identity,
    identities_only: t.identitiesOnly ?? false,
    keepalive_interval: `${(t.keepaliveIntervalMs ?? keepaliveDefaultMs) / 1000}s`,
    proxy: proxy ?? null,
  };
  return (Object.keys(values) as SettingName[])
    .filter((k) => sources[k] !== undefined)
    .map((k) => ({ setting: k, value: values[k], source: describeSource(sources[k]) }));
}

export function connectionView(c: HostConnection, keepaliveDefaultMs: number): ConnectionView {
  const t = c.target;
  const jump = t.jump;
  const proxy = jump ? `${jump.user}@${jump.address}:${jump.port}` : undefined;
  return {
    host: t.name,
    local: t.local,
    settings: t.local ? [] : rows(t, c.sources, keepaliveDefaultMs, proxy),
    ...(jump && c.bastion ? { bastion: { name: jump.name, settings: rows(jump, c.bastion.sources, keepaliveDefaultMs).filter((r) => r.setting !== 'proxy') } } : {}),
  };
}

/** YAML comment lines, so `gangway config > resolved.yml` stays a usable config. */
export function connectionComments(views: ConnectionView[]): string[] {
  const lines = ['# connections: setting = value  <- where it came from'];
  const show = (v: SettingRow['value']) => (v === null ? '-' : Array.isArray(v) ? v.join(', ') : String(v));
  const block = (indent: string, settings: SettingRow[]) => settings.map((r) => `#${indent}${r.setting} = ${show(r.value)}  <- ${r.source}`);
  for (const v of views) {
    lines.push(`# ${v.host}:${v.local ? ' local Docker engine, no SSH' : ''}`);
    lines.push(...block('   ', v.settings));
    if (v.bastion) {
      lines.push(`#   bastion ${v.bastion.name}:`);
      lines.push(...block('     ', v.bastion.settings));
    }
  }
  return lines;
}
