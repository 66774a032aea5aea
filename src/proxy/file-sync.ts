// haproxy.cfg on the host follows the live runtime: every runtime change is followed by
// re-rendering the file from what the proxy reports, so a restart loads exactly what was running.
import { readConfigCommand, removeSocketCommand, writeConfigCommand } from './config-file.js';
import { readServers } from './live-servers.js';
import { parseRenderedServers, renderHaproxyConfig } from './render.js';
import { dirOf, proxyError, type ProxyTarget } from './target.js';
import type { LiveServer, ProxyBackend, ProxyServer } from './types.js';

/**
 * What the file should hold for these live servers. A server in maint is on its way out (gangway
 * puts servers in maint only to remove them), so it is left out: one that HAProxy would not
 * delete (see removeServer) is then gone at the proxy's next start.
 */
export function proxyBackendOf(t: ProxyTarget, servers: ReadonlyArray<Pick<LiveServer, 'name' | 'address' | 'port' | 'state'>>): ProxyBackend {
  return {
    service: t.service,
    appPort: t.appPort,
    healthcheck: t.healthcheck,
    servers: servers.filter((s) => s.state !== 'maint').map(({ name, address, port, state }) => ({ name, address, port, state })),
  };
}

export async function readConfigFile(t: ProxyTarget): Promise<string | undefined> {
  const c = readConfigCommand(dirOf(t));
  const r = await t.host.exec(c.command);
  if (r.code === 3) return undefined;
  if (r.code !== 0) throw proxyError(t, `cannot read the proxy config: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Before a proxy (re)starts: the socket of one that no longer runs (see removeSocketCommand). */
export async function removeDeadSocket(t: ProxyTarget): Promise<void> {
  const r = await t.host.exec(removeSocketCommand(dirOf(t)).command);
  if (r.code !== 0) throw proxyError(t, `cannot remove the stopped proxy's admin socket: ${r.stderr.trim()}`);
}

export async function writeConfigFile(t: ProxyTarget, text: string): Promise<void> {
  const c = writeConfigCommand(text, dirOf(t));
  const r = await t.host.exec(c.command, { stdin: c.stdin });
  if (r.code !== 0) throw proxyError(t, `cannot write the proxy config: ${r.stderr.trim()}`);
}

/** Re-renders haproxy.cfg from the live runtime state; returns the text written. */
export async function syncConfig(t: ProxyTarget): Promise<string> {
  const text = renderHaproxyConfig(proxyBackendOf(t, await readServers(t)));
  await writeConfigFile(t, text);
  return text;
}

/** True when the file on the host is what the live state renders to (for verify/status). */
export async function configInSync(t: ProxyTarget): Promise<boolean> {
  const [file, live] = await Promise.all([readConfigFile(t), readServers(t)]);
  return file === renderHaproxyConfig(proxyBackendOf(t, live));
}

/** The servers a (re)started proxy must keep: the live runtime's when it answers, else the file's. */
export async function serversToKeep(t: ProxyTarget, running: boolean): Promise<ProxyServer[]> {
  if (running) {
    try {
      return proxyBackendOf(t, await readServers(t)).servers;
    } catch {
      // A running container whose socket does not answer: fall back to the file.
    }
  }
  const file = await readConfigFile(t);
  return file === undefined ? [] : parseRenderedServers(file);
}
