// haproxy.cfg and its maps on the host follow the live runtime: every runtime change is followed
// by re-rendering them from what the proxy reports, every service's backend and routes included,
// so a restart loads exactly what was running.
import { readConfigCommand, removeSocketCommand } from './config-file.js';
import { ensureCertsCommand } from './cert-files.js';
import { defaultCertificatePem } from './default-cert.js';
import { renderLayoutFiles, storedFilesMatch, writeLayoutCommand, type LayoutFiles } from './layout-files.js';
import { readLiveLayout, readStoredFiles } from './live-layout.js';
import type { ProxyLayout } from './layout.js';
import { withRouteLock, type RouteLockHeld } from './route-lock.js';
import { dirOf, proxyError, type ProxyTarget } from './target.js';
import type { Host } from '../hosts/host.js';

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

/**
 * Proxy directories, per host, whose certificate files this command saw in place or wrote: the
 * certificates are only ever added, so a file write there leaves them alone (no default
 * certificate to make, ~80 ms of the CLI's CPU once per command, and four processes fewer on the
 * host per write).
 */
const certFilesInPlace = new WeakMap<Host, Set<string>>();

/** Notes that `t`'s proxy directory has its certificate files (read by the caller, or just written). */
export function rememberCertFiles(t: ProxyTarget): void {
  const dirs = certFilesInPlace.get(t.host) ?? new Set<string>();
  dirs.add(dirOf(t));
  certFilesInPlace.set(t.host, dirs);
}

const certFilesKnown = (t: ProxyTarget): boolean => certFilesInPlace.get(t.host)?.has(dirOf(t)) ?? false;

/** certs/, the default certificate and a crt-list: what the HTTPS bind needs before the proxy loads the file. */
export async function ensureCertFiles(t: ProxyTarget): Promise<void> {
  const c = ensureCertsCommand(await defaultCertificatePem(), dirOf(t));
  const r = await t.host.exec(c.command, { stdin: c.stdin });
  if (r.code !== 0) throw proxyError(t, `cannot prepare the proxy's certificate directory: ${r.stderr.trim()}`);
  rememberCertFiles(t);
}

/**
 * The files, and before them what the file's HTTPS bind loads (ensureCertFiles): whatever command
 * writes a file here, a proxy that (re)starts on it finds its crt-list.
 */
export async function writeLayoutFiles(t: ProxyTarget, files: LayoutFiles, lock?: RouteLockHeld): Promise<void> {
  const layout = writeLayoutCommand(files, dirOf(t)).command;
  // One exec for both (a round trip fewer per sync): the certificates' command reads its stdin,
  // the files' takes none; certificates known in place are left out. The route lock, when given,
  // is released by the same exec.
  const certs = certFilesKnown(t) ? undefined : ensureCertsCommand(await defaultCertificatePem(), dirOf(t));
  const write = certs ? `{ ${certs.command}; } && { ${layout}; }` : layout;
  const r = await t.host.exec(lock ? lock.releasingAfter(write) : write, certs ? { stdin: certs.stdin } : {});
  if (r.code !== 0) throw proxyError(t, `cannot write the proxy config: ${r.stderr.trim()}`);
  rememberCertFiles(t);
}

/** The whole shared layout as the runtime holds it; a proxy not moved to it yet cannot be synced. */
async function liveLayout(t: ProxyTarget): Promise<ProxyLayout> {
  const live = await readLiveLayout(t);
  if (live.kind === 'legacy') throw proxyError(t, `the proxy on ${t.host.name} still runs the single-service layout`, { hint: 'a deploy or setup of any service on this host moves it to the shared layout first' });
  return live.layout;
}

/**
 * Re-renders haproxy.cfg and the maps from the live runtime state; returns the config written.
 * Under the route lock: another service's sync must not write a reading older than this one's.
 */
export async function syncConfig(t: ProxyTarget): Promise<string> {
  return withRouteLock(t, async (held) => {
    const files = renderLayoutFiles(await liveLayout(t));
    await writeLayoutFiles(t, files, held);
    return files.config;
  });
}

/** True when the files on the host are what the live state renders to (for verify/status). */
export async function configInSync(t: ProxyTarget): Promise<boolean> {
  const [stored, layout] = await Promise.all([readStoredFiles(t), liveLayout(t)]);
  return storedFilesMatch(stored, renderLayoutFiles(layout));
}
