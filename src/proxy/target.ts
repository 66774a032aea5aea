// One service's proxy on one host, as the proxy functions see it: a small value the caller builds
// once (from the config, or by hand in tests and benches), never the whole Config.
import { GangwayError, operationError } from '../errors.js';
import type { Events } from '../events/events.js';
import type { Host } from '../hosts/host.js';
import { hostSocketPath, PROXY_HOST_DIR } from './paths.js';
import { RuntimeApi } from './runtime-api.js';
import type { RouteClaim } from './claims.js';
import { DEFAULT_RESPONSE_TIMEOUT_MS, ownerOf, type SlotSettings } from './layout.js';
import type { ProxyHealthcheck } from './types.js';

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
  /**
   * Host names (and an optional path prefix) this service answers on the shared proxy; no hosts =
   * the catch-all, which answers every name no other service claims (at most one per host).
   */
  routing?: { hosts: string[]; pathPrefix?: string };
  /** Per request (default 60 s). */
  responseTimeoutMs?: number;
  /** Largest request body by Content-Length (413 above); default no limit. */
  maxBodyBytes?: number;
  /** X-Forwarded-For/-Proto/-Host (default on). */
  forwardHeaders?: boolean;
  /** Plain HTTP to this service's names gets a 308 to https (proxy.ssl with ssl_redirect). */
  sslRedirect?: boolean;
  /** The host port of the proxy's HTTPS listener, which the redirect names when it is not 443. */
  redirectPort?: number;
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
/** Who this target is on a shared proxy: `service` or `service@destination`. */
export const ownerOfTarget = (t: ProxyTarget): string => ownerOf(t.service, t.destination);

export function settingsOf(t: ProxyTarget): SlotSettings {
  return {
    owner: ownerOfTarget(t),
    appPort: t.appPort,
    healthcheck: t.healthcheck,
    responseTimeoutMs: t.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS,
    maxBodyBytes: t.maxBodyBytes ?? 0,
    forwardHeaders: t.forwardHeaders ?? true,
    ...(t.sslRedirect ? { sslRedirect: true, ...(t.redirectPort !== undefined ? { redirectPort: t.redirectPort } : {}) } : {}),
  };
}

export function claimOf(t: ProxyTarget): RouteClaim {
  return {
    settings: settingsOf(t),
    hosts: t.routing?.hosts ?? [],
    ...(t.routing?.pathPrefix !== undefined ? { pathPrefix: t.routing.pathPrefix } : {}),
  };
}

export function runtimeApi(t: ProxyTarget): RuntimeApi {
  return new RuntimeApi(() => t.host.openUnixSocket(hostSocketPath(dirOf(t))), { hostName: t.host.name, timeoutMs: t.runtimeTimeoutMs });
}

/** An error of the proxy step on this target's host. */
export function proxyError(t: ProxyTarget, message: string, extra: { hint?: string; details?: string[]; cause?: unknown } = {}): GangwayError {
  return operationError(message, { host: t.host.name, step: 'proxy', ...extra });
}
