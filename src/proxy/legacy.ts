// The single-service file of earlier gangway versions (`frontend fe_http` with
// `default_backend be_<service>` and that one backend), read so its service keeps its routes when
// the host moves to the shared layout. Pure.
import { backendSections, parseRenderedServers } from './render.js';
import { DEFAULT_FALL, DEFAULT_RISE, legacyBackendName, type ProxyHealthcheck, type ProxyServer } from './types.js';

export interface LegacyProxy {
  service: string;
  backend: string;
  servers: ProxyServer[];
  /** What its backend checked, so the service keeps it until its own deploy says otherwise. */
  healthcheck: ProxyHealthcheck;
  appPort?: number;
}

/** The single-service layout, or undefined for any other file (the shared one included). */
export function parseLegacyConfig(cfgText: string): LegacyProxy | undefined {
  if (/\bslots\.map\b/.test(cfgText)) return undefined;
  const def = /^\s*default_backend\s+be_(\S+)\s*$/m.exec(cfgText);
  if (!def) return undefined;
  const service = def[1]!;
  const backend = legacyBackendName(service);
  const section = backendSections(cfgText).get(backend);
  if (section === undefined) return undefined;
  const path = /http-check send meth GET uri (\S+)/.exec(section)?.[1] ?? /option httpchk GET (\S+)/.exec(section)?.[1] ?? '/up';
  const timeout = /timeout check (\d+)ms/.exec(section)?.[1];
  const options = /\bcheck inter (\d+)ms rise (\d+) fall (\d+)/.exec(section);
  const servers = parseRenderedServers(section);
  return {
    service,
    backend,
    servers,
    healthcheck: {
      path,
      intervalMs: options ? Number(options[1]) : 1000,
      timeoutMs: timeout ? Number(timeout) : 5000,
      rise: options ? Number(options[2]) : DEFAULT_RISE,
      fall: options ? Number(options[3]) : DEFAULT_FALL,
    },
    ...(servers[0] ? { appPort: servers[0].port } : {}),
  };
}
