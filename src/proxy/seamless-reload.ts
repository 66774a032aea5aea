// The one way gangway reloads a running proxy: a new worker reads the files, takes the listeners
// over (expose-fd listeners) and the old one finishes what it holds. HAProxy 2.6's old worker
// closes its idle keep-alive client connections the moment it stops, and a client that sent a
// request on one at that instant gets a reset (2.7 added idle-close-on-response; the file must
// load on 2.6 too). So, first, every client connection is told to end after its next response
// (closing.map, render.ts), which leaves the old worker almost nothing idle to close.
import type Docker from 'dockerode';
import { messageOf } from '../errors.js';
import { closingOff, closingOn, UNKNOWN_MAP_REPLY } from './runtime-maps.js';
import { runtimeApi, type ProxyTarget } from './target.js';
import { pause, waitRuntimeReady, workerPid } from './waits.js';

/**
 * How long connections are closed after their response before the reload. Measured with the
 * local HAProxy 2.6 at 300 req/s, 30 reloads each (bench/proxy-restart/reload-local.ts, numbers
 * in src/proxy/README.md): a plain reload reset 51 keep-alive requests; with the key set, none,
 * whether the reload followed at once or 1 s later. 1 s is margin: any keep-alive connection
 * that carries a request within it is closed before the old worker stops.
 */
export const CLOSE_BEFORE_RELOAD_MS = 1000;

export interface ReloadOptions {
  readyTimeoutMs?: number;
  /**
   * Writes the files the new worker loads, called at the last moment before the signal: a server
   * another deploy adds at runtime during the closing wait must be in them, or the reload drops it.
   */
  writeFiles?: () => Promise<void>;
  /** Default CLOSE_BEFORE_RELOAD_MS; 0 reloads at once (what a plain SIGUSR2 does). */
  closeBeforeMs?: number;
}

/** Reloads the running proxy and waits for its new worker; `closing` says whether the flag could be set first. */
export async function seamlessReload(t: ProxyTarget, docker: Docker, containerId: string, opts: ReloadOptions = {}): Promise<{ closing: boolean }> {
  const before = await workerPid(t);
  const api = runtimeApi(t);
  const wait = opts.closeBeforeMs ?? CLOSE_BEFORE_RELOAD_MS;
  let closing = false;
  if (wait > 0) {
    const reply = await api.send(closingOn().line);
    // A proxy started from a file older than closing.map: reload as before, nothing to set.
    closing = reply.trim() === '';
    if (!closing && !reply.startsWith(UNKNOWN_MAP_REPLY)) t.events?.log(`the proxy refused to close connections before its reload: ${reply.trim()}`, { level: 'warn', host: t.host.name, step: 'proxy' });
    if (closing) await pause(wait);
  }
  try {
    await opts.writeFiles?.();
    await docker.getContainer(containerId).kill({ signal: 'SIGUSR2' });
    await waitRuntimeReady(t, docker, containerId, opts.readyTimeoutMs, before);
  } catch (err) {
    // The old worker still serves (a new one that fails to load leaves it in place): it must not
    // go on closing every connection.
    if (closing) await api.run(closingOff()).catch((e: unknown) => t.events?.log(`cannot clear closing.map after a failed reload: ${messageOf(e)}`, { level: 'warn', host: t.host.name, step: 'proxy' }));
    throw err;
  }
  return { closing };
}
