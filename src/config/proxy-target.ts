// The proxy functions take a small ProxyTarget, not the Config: this is where a command that holds
// a loaded config builds one, once per host.
import type { Events } from '../events/events.js';
import type { Host } from '../hosts/host.js';
import type { ProxyTarget } from '../proxy/target.js';
import type { LoadedConfig } from './load.js';
import { httpsPortOf, sslOn } from './schema.js';

/** Takes the loaded config, not the bare Config: the destination (`-d`) is the load's, not the file's. */
export function proxyTargetFromConfig(host: Host, loaded: Pick<LoadedConfig, 'config' | 'destination'>, events?: Events): ProxyTarget {
  const { config } = loaded;
  return {
    host,
    service: config.service,
    ...(loaded.destination ? { destination: loaded.destination } : {}),
    appPort: config.proxy.app_port,
    healthcheck: {
      path: config.proxy.healthcheck.path,
      intervalMs: config.proxy.healthcheck.interval,
      timeoutMs: config.proxy.healthcheck.timeout,
      status: config.proxy.healthcheck.status,
      host: config.proxy.healthcheck.host,
    },
    ...(config.proxy.hosts ? { routing: { hosts: config.proxy.hosts, ...(config.proxy.path_prefix !== undefined ? { pathPrefix: config.proxy.path_prefix } : {}) } } : {}),
    responseTimeoutMs: config.proxy.response_timeout,
    ...(config.proxy.max_body_size !== undefined ? { maxBodyBytes: config.proxy.max_body_size } : {}),
    forwardHeaders: config.proxy.forward_headers,
    // With ssl on, the proxy publishes httpsPortOf on its :443 (fleet/prepare.ts): the redirect names it.
    ...(sslOn(config.proxy) && config.proxy.ssl_redirect ? { sslRedirect: true, redirectPort: httpsPortOf(config.proxy)! } : {}),
    events,
  };
}
