// Parsers for the runtime API's `show servers state`, `show stat` and `show info` replies, and the
// join of the first two into what gangway needs per server: admin state, health, in-flight
// sessions. Checked against the replies of Debian's HAProxy 2.6.12 and 3.0.11 (test fixtures).
import type { LiveServer, ServerHealth, ServerAdmin } from './types.js';

export interface ServersStateRow {
  backend: string;
  name: string;
  address: string;
  port: number;
  /** 0 stopped, 1 starting, 2 running, 3 stopping. */
  opState: number;
  /** Bit mask: 0x01 forced maint, 0x02 inherited maint, 0x04 config maint, 0x08 forced drain... */
  adminState: number;
  userWeight: number;
  /** 0 unknown, 1 neutral, 2 failed, 3 passed, 4 conditionally passed. */
  checkResult: number;
  /** Bit mask of the active check: 0x02 configured, 0x04 enabled (see CHECK). */
  checkState: number;
}

const ADMIN = { FMAINT: 0x01, IMAINT: 0x02, CMAINT: 0x04, FDRAIN: 0x08, IDRAIN: 0x10, RMAINT: 0x20, HMAINT: 0x40 } as const;
const CHECK = { CONFIGURED: 0x02, ENABLED: 0x04 } as const;
const OP_STATE = { STOPPED: 0, STARTING: 1, RUNNING: 2, STOPPING: 3 } as const;

/**
 * Columns are located by the header line rather than by position: later HAProxy versions
 * append fields, and a parser tied to positions would misread them silently.
 */
export function parseServersState(text: string): ServersStateRow[] {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines[0] !== '1') throw new Error(`unexpected "show servers state" format: ${lines[0] ?? '(empty)'}`);
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) throw new Error('"show servers state" reply has no header line');
  const cols = header.slice(2).split(/\s+/);
  const at = (fields: string[], name: string): string => {
    const i = cols.indexOf(name);
    if (i < 0) throw new Error(`"show servers state" has no column ${name}`);
    return fields[i] ?? '';
  };
  const rows: ServersStateRow[] = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith('#')) continue;
    const f = line.split(/\s+/);
    rows.push({
      backend: at(f, 'be_name'),
      name: at(f, 'srv_name'),
      // "-" is a server whose name has not resolved (yet): it has no address.
      address: at(f, 'srv_addr') === '-' ? '' : at(f, 'srv_addr'),
      port: Number(at(f, 'srv_port')),
      opState: Number(at(f, 'srv_op_state')),
      adminState: Number(at(f, 'srv_admin_state')),
      userWeight: Number(at(f, 'srv_uweight')),
      checkResult: Number(at(f, 'srv_check_result')),
      checkState: Number(at(f, 'srv_check_state')),
    });
  }
  return rows;
}

export interface StatRow {
  proxy: string;
  /** Server name, or FRONTEND / BACKEND for the aggregate rows. */
  name: string;
  sessions: number;
  status: string;
  weight: number;
  checkStatus: string;
  checkCode?: number;
  checkDescription: string;
  /** "ip:port" of a server; '' on aggregate rows. */
  address: string;
}

/** A `show stat` row: a column's text by its header name ('' when this HAProxy has no such column). */
export type StatField = (name: string) => string;

/** `show stat` CSV rows, each read by column name; fields never contain commas in the columns read. */
export function statRows(text: string): StatField[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0];
  if (!header?.startsWith('# pxname,')) throw new Error(`unexpected "show stat" format: ${header ?? '(empty)'}`);
  const cols = header.slice(2).split(',');
  return lines.slice(1).map((line) => {
    const f = line.split(',');
    return (name: string) => {
      const i = cols.indexOf(name);
      return i >= 0 ? (f[i] ?? '') : '';
    };
  });
}

/** `show stat` CSV, the columns gangway reads for state and health. */
export function parseStat(text: string): StatRow[] {
  return statRows(text).map((get) => {
    // No HTTP status is 0: HAProxy shows 0 (next to "* L7OK") while the next check runs, on 2.6.12
    // and 3.0.11 alike (measured), so 0 means "not known right now", never a result.
    const code = get('check_code') === '0' ? '' : get('check_code');
    return {
      proxy: get('pxname'),
      name: get('svname'),
      sessions: Number(get('scur') || 0),
      status: get('status'),
      weight: Number(get('weight') || 0),
      // HAProxy marks a check in progress with a leading "* ".
      checkStatus: get('check_status').replace(/^\*\s*/, ''),
      ...(code !== '' ? { checkCode: Number(code) } : {}),
      checkDescription: get('check_desc'),
      address: get('addr'),
    };
  });
}

/** HAProxy's status of a server that is out only because its name does not resolve. */
const UNRESOLVED_STATUS = 'MAINT (resolution)';

/**
 * The administrative state, i.e. what gangway asked for. A name that does not resolve (RMAINT) is
 * not one: such a server keeps its ready/drain state and comes back when its container does, so
 * it reads as down (see classifyHealth), never as maint — maint servers are being removed.
 */
export function classifyState(row: ServersStateRow, stat?: StatRow): ServerAdmin {
  // CMAINT alone is not trusted: HAProxy 2.6 leaves it set on runtime servers that serve traffic.
  // HMAINT only says the FQDN was set from the CLI.
  const maintMask = ADMIN.FMAINT | ADMIN.IMAINT;
  if (row.adminState & maintMask || (stat?.status.startsWith('MAINT') && stat.status !== UNRESOLVED_STATUS)) return 'maint';
  if (row.adminState & (ADMIN.FDRAIN | ADMIN.IDRAIN) || row.userWeight === 0 || stat?.status.startsWith('DRAIN')) return 'drain';
  return 'ready';
}

/** A configured check that `disable health` stopped: HAProxy keeps the server as it was. */
function checkStopped(row: ServersStateRow): boolean {
  return (row.checkState & CHECK.CONFIGURED) !== 0 && (row.checkState & CHECK.ENABLED) === 0;
}

export function classifyHealth(row: ServersStateRow, stat?: StatRow): ServerHealth {
  if (classifyState(row, stat) === 'maint') return 'maint';
  if (row.adminState & ADMIN.RMAINT || row.address === '') return 'down';
  // Held: its check stopped while HAProxy counted it up. `show stat` says "no check" only for a
  // ready server; held and then drained it reads "DRAIN" with no check status (measured on
  // 2.6.12), so the check-state bits decide. Stopped while down, it stays down.
  const running = row.opState === OP_STATE.RUNNING || row.opState === OP_STATE.STARTING;
  if (stat?.status === 'no check' || checkStopped(row)) return running ? 'held' : 'down';
  if (!stat?.checkStatus || stat.checkStatus === 'INI' || stat.checkStatus === 'UNK') return 'checking';
  return running ? 'up' : 'down';
}

/** Both replies joined per server of one backend, in the order HAProxy lists them. */
export function liveServers(backend: string, serversState: ServersStateRow[], stats: StatRow[]): LiveServer[] {
  return serversState
    .filter((r) => r.backend === backend)
    .map((row) => {
      const stat = stats.find((s) => s.proxy === backend && s.name === row.name);
      return {
        name: row.name,
        address: row.address,
        port: row.port,
        state: classifyState(row, stat),
        health: classifyHealth(row, stat),
        checkStatus: stat?.checkStatus ?? '',
        ...(stat?.checkCode !== undefined ? { checkCode: stat.checkCode } : {}),
        checkDescription: stat?.checkDescription ?? '',
        sessions: stat?.sessions ?? 0,
        weight: row.userWeight,
        status: stat?.status ?? '',
      };
    });
}

/** Healthy from the proxy's side: a real check passed and HAProxy counts the server as up. */
export function isHealthy(server: LiveServer): boolean {
  return server.health === 'up' && server.checkStatus.startsWith('L7OK');
}

/** One line for errors and status: "L7STS 404 (Layer7 wrong status)". */
export function describeCheck(server: LiveServer): string {
  if (server.address === '' && server.health !== 'maint') return `no address: the name ${server.name} does not resolve on the app network (is its container running?)`;
  if (!server.checkStatus) return server.health === 'maint' ? 'in maintenance, not checked' : 'not checked yet';
  const code = server.checkCode !== undefined ? ` ${server.checkCode}` : '';
  const desc = server.checkDescription ? ` (${server.checkDescription})` : '';
  return `${server.checkStatus}${code}${desc}`;
}

/** The running HAProxy's version, as `show info` reports it. */
export interface ProxyVersion {
  /** Verbatim, e.g. "3.0.11-1+deb13u4". */
  version: string;
  /** The release line, "2.6" or "3.0": what the proxy's behaviour depends on. */
  line: string;
  major: number;
  minor: number;
}

/**
 * `show info` has one "Version: " line (2.6 and 3.0 alike). Nothing gangway sends depends on it
 * today: every runtime command it uses behaves the same on 2.6.12 and 3.0.11 (see README.md,
 * "HAProxy 3.0"); it says which HAProxy a host runs, for people and for the tests that must run
 * on a given line.
 */
export function parseShowInfo(text: string): ProxyVersion {
  const version = /^Version: (\S+)$/m.exec(text)?.[1];
  const m = version ? /^(\d+)\.(\d+)/.exec(version) : null;
  if (!version || !m) throw new Error(`"show info" reply has no version: ${text.split('\n')[0] ?? '(empty)'}`);
  return { version, line: `${m[1]}.${m[2]}`, major: Number(m[1]), minor: Number(m[2]) };
}
