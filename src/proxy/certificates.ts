// Own certificates on one host's proxy: the file (certs/<name>.pem, the proxy uid's, 0600) so a
// restart keeps it, a line in crt-list.txt, and the running HAProxy through its runtime API (new
// name: new/set/commit + crt-list; changed: set/commit; equal: nothing). No reload: no connection
// is dropped. Under the host's route lock, as every other read-decide-apply of the proxy.
import { createHash } from 'node:crypto';
import {
  addCrtListEntry, combinedPem, commitCert, delCert, delCrtListEntry, hashCertFilesCommand, leafFingerprint, newCert, parseCertFingerprint,
  parseCertHashes, parseCertList, parseCrtListEntries, removeCertFileCommand, setCert, showCert, showCerts, showCrtList, writeCertFileCommand,
  type PayloadCommand,
} from './cert-commands.js';
import { parseCrtList, readCrtListCommand, renderCrtList, writeCrtListCommand } from './cert-files.js';
import { containerCertPath, PROXY_CONTAINER_NAME } from './paths.js';
import type { ShellCommand } from '../state/shell.js';
import { currentLayout } from './live-layout.js';
import { withRouteLock } from './route-lock.js';
import { dirOf, proxyError, runtimeApi, type ProxyTarget } from './target.js';

/** One certificate (chain + key, from gangway secrets) for these names. */
export interface OwnCertificate {
  names: string[];
  certificatePem: string;
  privateKeyPem: string;
  /** The secret the chain came from: named in errors, never its value. */
  certificateSecret: string;
}

export interface CertificateOutcome {
  /** What happened to each name: added (new), renewed (replaced), unchanged. */
  byName: Record<string, 'added' | 'renewed' | 'unchanged'>;
}

async function run(t: ProxyTarget, c: ShellCommand, what: string): Promise<string> {
  const r = await t.host.exec(c.command, c.stdin !== undefined ? { stdin: c.stdin } : {});
  // stderr only: stdout of these commands may be a file's hash list, never a key, but nothing is echoed.
  if (r.code !== 0) throw proxyError(t, `cannot ${what}: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.code}`}`);
  return r.stdout;
}

async function ask(t: ProxyTarget, c: PayloadCommand): Promise<string> {
  const api = runtimeApi(t);
  const reply = c.payload !== undefined ? await api.sendPayload(c.line, c.payload) : await api.send(c.line);
  if (!reply.includes(c.success)) throw proxyError(t, `HAProxy refused "${c.line}": ${reply.trim().split('\n')[0] || '(no reply)'}`);
  return reply;
}

const container = (t: ProxyTarget): string => t.containerName ?? PROXY_CONTAINER_NAME;

/** Installs (or renews) `cert` for each of its names on this host's running proxy. */
export async function installCertificate(t: ProxyTarget, cert: OwnCertificate): Promise<CertificateOutcome> {
  const pem = combinedPem(cert.certificatePem, cert.privateKeyPem);
  let fingerprint: string;
  try {
    fingerprint = leafFingerprint(cert.certificatePem, cert.certificateSecret);
  } catch (err) {
    throw proxyError(t, (err as Error).message, { hint: 'the secret named by proxy.ssl.certificate_pem must hold the PEM chain, leaf first' });
  }
  const sha = createHash('sha256').update(pem).digest('hex');
  return withRouteLock(t, async () => {
    const files = parseCertHashes(await run(t, hashCertFilesCommand(container(t)), 'read the proxy\'s certificate files'));
    for (const name of cert.names) {
      if (files.get(name) !== sha) await run(t, writeCertFileCommand(name, pem, container(t)), `write the certificate of ${name}`);
    }
    const listed = parseCrtList(await run(t, readCrtListCommand(dirOf(t)), 'read the crt-list'));
    if (cert.names.some((n) => !listed.includes(n))) await run(t, writeCrtListCommand(renderCrtList([...listed, ...cert.names]), dirOf(t)), 'write the crt-list');

    const loaded = parseCertList(await ask(t, showCerts()));
    const inList = parseCrtListEntries(await ask(t, showCrtList()));
    const byName: CertificateOutcome['byName'] = {};
    for (const name of cert.names) {
      const path = containerCertPath(name);
      if (!loaded.includes(path)) {
        await ask(t, newCert(name));
        await ask(t, setCert(name, pem));
        await ask(t, commitCert(name));
        byName[name] = 'added';
      } else if (parseCertFingerprint(await ask(t, showCert(name))) !== fingerprint) {
        await ask(t, setCert(name, pem));
        await ask(t, commitCert(name));
        byName[name] = 'renewed';
      } else {
        byName[name] = 'unchanged';
      }
      if (!inList.includes(path)) {
        await ask(t, addCrtListEntry(name));
        if (byName[name] === 'unchanged') byName[name] = 'added';
      }
    }
    return { byName };
  });
}

/**
 * Takes these names' certificates off the running proxy, the crt-list and the disk (gangway
 * remove, after the routes are off); a name another service still routes (with another path
 * prefix) keeps its certificate. Returns the names taken off.
 */
export async function removeCertificates(t: ProxyTarget, wanted: string[], running: boolean): Promise<string[]> {
  if (wanted.length === 0) return [];
  return withRouteLock(t, async () => {
    const routed = new Set((await currentLayout(t, running)).layout?.routes.map((r) => r.key.slice(0, r.key.indexOf('/'))) ?? []);
    const names = wanted.filter((n) => !routed.has(n));
    if (names.length === 0) return [];
    const listed = parseCrtList(await run(t, readCrtListCommand(dirOf(t)), 'read the crt-list'));
    if (names.some((n) => listed.includes(n))) await run(t, writeCrtListCommand(renderCrtList(listed.filter((n) => !names.includes(n))), dirOf(t)), 'write the crt-list');
    if (!running) return names;
    const inList = parseCrtListEntries(await ask(t, showCrtList()));
    const loaded = parseCertList(await ask(t, showCerts()));
    for (const name of names) {
      if (inList.includes(containerCertPath(name))) await ask(t, delCrtListEntry(name));
      if (loaded.includes(containerCertPath(name))) await ask(t, delCert(name));
      await run(t, removeCertFileCommand(name, container(t)), `remove the certificate of ${name}`);
    }
    return names;
  });
}
