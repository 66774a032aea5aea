// One service's proxy on one host, as the proxy functions see it: a small value the caller builds
// once (from the config, or by hand in tests and benches), never the whole Config.
import { GangwayError, operationError } from '../errors.js';
import type { Events } from '../events/events.js';
import type { Host } from '../hosts/host.js';
import { hostSocketPath, PROXY_HOST_DIR } from './paths.js';
import { RuntimeApi } from './runtime-api.js';
import { backendName, type ProxyHealthcheck } from './types.js';

export const DEFAULT_APP_NETWORK = 'gangway';

/** One service's proxy on one host, and where its pieces live there. */
export interface ProxyTarget {
  host: Host;
  service: string;
  /**
   * The `-d` destination whose servers these are, when there is one: production and staging of a
   * service may share a host's proxy, and each must be served (and named) apart.
   */
  destination?: string;
  appPort: number;
  healthcheck: ProxyHealthcheck;
  /** The app network the proxy shares with app containers (default `gangway`). */
  network?: string;
  containerName?: string;
  hostDir?: string;
  events?: Events;
  runtimeTimeoutMs?: number;
  /** Poll interval of the waits. */
  pollMs?: number;
}

export const dirOf = (t: ProxyTarget): string => t.hostDir ?? PROXY_HOST_DIR;
export const networkOf = (t: ProxyTarget): string => t.network ?? DEFAULT_APP_NETWORK;
export const backendOf = (t: ProxyTarget): string => backendName(t.service);

export function runtimeApi(t: ProxyTarget): RuntimeApi {
  return new RuntimeApi(() => t.host.openUnixSocket(hostSocketPath(dirOf(t))), { hostName: t.host.name, timeoutMs: t.runtimeTimeoutMs });
}

/** An error of the proxy step on this target's host. */
export function proxyError(t: ProxyTarget, message: string, extra: { hint?: string; details?: string[]; cause?: unknown } = {}): GangwayError {
  return operationError(message, { host: t.host.name, step: 'proxy', ...extra });
}
