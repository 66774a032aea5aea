// The proxy's vocabulary: what a service's backend holds (ProxyBackend, the renderer's input) and
// what the live runtime reports about each server (LiveServer). A server has two separate things
// HAProxy calls "state": its admin setting (ServerAdmin: gangway sets it) and its health
// (ServerHealth: the checks decide it). Neither is the deploy's phases (src/deploy/phases.ts) nor
// the host files of src/state.

/** Administrative state of a server, as gangway drives it (the `state` field of a server). */
export type ServerAdmin = 'ready' | 'drain' | 'maint';

export interface ProxyHealthcheck {
  /** HTTP path checked with GET. */
  path: string;
  /** The status a healthy app answers (default 200). */
  status?: number;
  /** The Host header of the check (default `localhost`). */
  host?: string;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive passing checks before a server counts as up (default 2). */
  rise?: number;
  /** Consecutive failing checks before a server counts as down (default 3). */
  fall?: number;
}

export interface ProxyServer {
  /** The container name: `<service>-<role>-<version>`. */
  name: string;
  /** The live IP on the app network ('' while a name has not resolved); in the file: the name. */
  address: string;
  port: number;
  state: ServerAdmin;
  /**
   * A ready server's weight when it is not READY_WEIGHT: a canary's split (docs/canary.md), kept
   * in the file so a proxy that restarts mid-canary splits the traffic as before.
   */
  weight?: number;
}

export interface ProxyBackend {
  service: string;
  /** Port the app listens on inside its container; the default for new servers. */
  appPort: number;
  healthcheck: ProxyHealthcheck;
  servers: ProxyServer[];
}

/**
 * How the live runtime sees a server's health.
 *
 * `held`: HAProxy reports "no check". gangway configures a check on every server, so this is a
 * server that serves, whose check gangway stopped (`disable health`) once it passed its gate:
 * HAProxy keeps it up whatever a check would say (see holdChecks).
 */
export type ServerHealth = 'up' | 'down' | 'checking' | 'held' | 'maint';

export interface LiveServer {
  name: string;
  address: string;
  port: number;
  state: ServerAdmin;
  health: ServerHealth;
  /** HAProxy's last check status (L7OK, L7STS, L4CON, INI...), '' when never checked. */
  checkStatus: string;
  /** HTTP status of the last check, when there was one. */
  checkCode?: number;
  /** HAProxy's words for the last check ("Layer7 wrong status", "Connection refused"). */
  checkDescription: string;
  /** Current sessions (scur): requests in flight through this server. */
  sessions: number;
  weight: number;
  /** HAProxy's status column verbatim ("UP", "DRAIN 1/3", "MAINT"). */
  status: string;
}

/** Weight a ready server gets; a drained server is rendered with weight 0 (see README). */
export const READY_WEIGHT = 100;
export const DEFAULT_RISE = 2;
export const DEFAULT_FALL = 3;

/** The backend of a single-service proxy of earlier gangway versions (see legacy.ts). */
export const legacyBackendName = (service: string): string => `be_${service}`;
export const DEFAULT_CHECK_STATUS = 200;
export const DEFAULT_CHECK_HOST = 'localhost';

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Names end up in haproxy.cfg and on runtime-API lines, where a space, `;` or `\` would change
 * the meaning of the line. Docker container names already fit this pattern.
 */
export function assertSafeName(kind: string, value: string): string {
  if (!SAFE_NAME.test(value)) throw new Error(`${kind} "${value}" is not usable in HAProxy (letters, digits, "_", "." and "-" only)`);
  return value;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function assertIpv4(value: string): string {
  const m = IPV4.exec(value);
  if (!m || m.slice(1).some((octet) => Number(octet) > 255)) throw new Error(`server address "${value}" is not an IPv4 address`);
  return value;
}

export function assertPort(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`port ${value} is not between 1 and 65535`);
  return value;
}
