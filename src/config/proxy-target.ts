// The proxy functions take a small ProxyTarget, not the Config: this is where a command that holds
// a loaded config builds one, once per host.
import type { Events } from '../events/events.js';
import type { Host } from '../hosts/host.js';
import type { ProxyTarget } from '../proxy/target.js';
import type { Config } from './schema.js';

export function proxyTargetFromConfig(host: Host, config: Config, events?: Events): ProxyTarget {
  return {
    host,
    service: config.service,
    appPort: config.proxy.app_port,
    healthcheck: { path: config.proxy.healthcheck.path, intervalMs: config.proxy.healthcheck.interval, timeoutMs: config.proxy.healthcheck.timeout },
    events,
  };
}
