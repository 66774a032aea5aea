// Building a ProxyLayout from what a host holds: the files gangway wrote (shared or the old
// single-service layout) or the runtime's maps and servers. Pure; live-layout.ts does the reading.
import { CATCH_ALL_KEY, DEFAULT_RESPONSE_TIMEOUT_MS, SLOT_NAMES, decodeSettings, emptyLayout, isSlotName, type MapKind, type ProxyLayout, type SlotSettings } from './layout.js';
import type { LegacyProxy } from './legacy.js';
import type { ProxyServer } from './types.js';

export interface LayoutSources {
  maps: Record<MapKind, Map<string, string>>;
  /** Servers per backend name. */
  servers: Map<string, ProxyServer[]>;
}

/**
 * Slots from slots.map, routes and the catch-all from their maps, servers per slot. A server in
 * maint is on its way out (gangway puts servers in maint only to remove them), so it is left out:
 * one HAProxy would not delete (see removeServer) is then gone at the proxy's next start.
 */
export function layoutFrom(src: LayoutSources): ProxyLayout {
  const slots = SLOT_NAMES.map((backend) => {
    const value = src.maps.slots.get(backend);
    const settings = value !== undefined ? decodeSettings(value) : undefined;
    const servers = (src.servers.get(backend) ?? []).filter((s) => s.state !== 'maint');
    return { backend, ...(settings ? { settings } : {}), servers };
  });
  const routes = [...src.maps.routes].filter(([, backend]) => isSlotName(backend)).map(([key, backend]) => ({ key, backend }));
  const catchAll = src.maps.catchAll.get(CATCH_ALL_KEY);
  return { slots, routes, ...(catchAll !== undefined && isSlotName(catchAll) ? { catchAll } : {}) };
}

/**
 * A host on the single-service layout moves to the shared one keeping what it served: its
 * service takes the first slot with the checks its backend had, and answers every name (the
 * catch-all) until its own next deploy declares proxy.hosts.
 */
export function layoutFromLegacy(legacy: LegacyProxy, defaults: { appPort: number }): ProxyLayout {
  const layout = emptyLayout();
  const backend = layout.slots[0]!.backend;
  const settings: SlotSettings = {
    owner: legacy.service,
    appPort: legacy.appPort ?? defaults.appPort,
    healthcheck: legacy.healthcheck,
    responseTimeoutMs: DEFAULT_RESPONSE_TIMEOUT_MS,
    maxBodyBytes: 0,
    forwardHeaders: true,
  };
  layout.slots[0] = { backend, settings, servers: legacy.servers.filter((s) => s.state !== 'maint') };
  return { ...layout, catchAll: backend };
}
