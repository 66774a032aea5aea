// Own certificates on one host's proxy: the file (certs/<name>.pem, the proxy uid's, 0600) so a
// restart keeps it, a line in crt-list.txt, and the running HAProxy through its runtime API (new
// name: new/set/commit + crt-list; changed: set/commit; equal, chain and key included: nothing).
// No reload: no connection is dropped. Under the host's route lock, as every other
// read-decide-apply of the proxy.
import { extract, pack } from 'tar-stream';
import { isNotFound } from '../docker/errors.js';
import {
  addCrtListEntry, certificateStep, combinedPem, commitCert, commitCertFileCommand, delCert, delCrtListEntry, leafFingerprint, newCert, parseCertFingerprint,
  parseCertList, parseContainerUser, parseCrtListEntries, pendingCertFile, removeCertFileCommand, setCert, showCert, showCerts, showCrtList,
  type PayloadCommand,
} from './cert-commands.js';
import { parseCrtList, readCrtListCommand, renderCrtList, writeCrtListCommand } from './cert-files.js';
import { CERTS_DIR, containerCertPath, PROXY_CONTAINER_DIR, PROXY_CONTAINER_NAME } from './paths.js';
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

/** Runs a shell line on the proxy's host; a failure names what it was for. */
export async function run(t: ProxyTarget, c: ShellCommand, what: string): Promise<string> {
  const r = await t.host.exec(c.command, c.stdin !== undefined ? { stdin: c.stdin } : {});
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
const CERTS_IN_CONTAINER = `${PROXY_CONTAINER_DIR}/${CERTS_DIR}`;

/**
 * The proxy image may have no shell (the sandbox's has none), so files go in through the Engine
 * API: a one-entry tar whose header gives the proxy's uid and group and mode 0600, which the engine
 * keeps when it extracts (measured on Docker 20.10: header owner and mode kept; `copyUIDGID`
 * refused a numeric user with no passwd entry). The PEM travels in the request body, never in a
 * command line. Written under a temporary name, then renamed by the SSH user (the directory is
 * the docker group's): a proxy that starts meanwhile reads a whole file.
 */
async function writeCertFile(t: ProxyTarget, name: string, pem: string): Promise<void> {
  const docker = await t.host.docker();
  const proxy = docker.getContainer(container(t));
  const owner = parseContainerUser((await proxy.inspect()).Config.User);
  if (!owner) throw proxyError(t, `the proxy container on ${t.host.name} runs as no numeric uid:gid; cannot give it its certificate files`, { hint: 'run `gangway setup` to recreate it' });
  const tar = pack();
  tar.entry({ name: pendingCertFile(name), mode: 0o600, uid: owner.uid, gid: owner.gid }, pem);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  await proxy.putArchive(Buffer.concat(chunks), { path: CERTS_IN_CONTAINER });
  await run(t, commitCertFileCommand(name, dirOf(t)), `install the certificate file of ${name}`);
}

/** The file's content as the engine reads it (the SSH user may not: it is 0600, the proxy's), or undefined. */
async function readCertFile(t: ProxyTarget, name: string): Promise<string | undefined> {
  const docker = await t.host.docker();
  let archive: NodeJS.ReadableStream;
  try {
    archive = await docker.getContainer(container(t)).getArchive({ path: `${CERTS_IN_CONTAINER}/${name}.pem` });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  const reader = extract();
  archive.pipe(reader);
  let content: string | undefined;
  for await (const entry of reader) {
    const parts: Buffer[] = [];
    for await (const c of entry) parts.push(c as Buffer);
    content ??= Buffer.concat(parts).toString('utf8');
  }
  return content;
}

/** Installs (or renews) `cert` for each of its names on this host's running proxy. */
export async function installCertificate(t: ProxyTarget, cert: OwnCertificate): Promise<CertificateOutcome> {
  const pem = combinedPem(cert.certificatePem, cert.privateKeyPem);
  let fingerprint: string;
  try {
    fingerprint = leafFingerprint(cert.certificatePem, cert.certificateSecret);
  } catch (err) {
    throw proxyError(t, (err as Error).message, { hint: 'the secret named by proxy.ssl.certificate_pem must hold the PEM chain, leaf first' });
  }
  return withRouteLock(t, async () => {
    const stale = new Set<string>();
    for (const name of cert.names) if ((await readCertFile(t, name)) !== pem) stale.add(name);
    const loaded = parseCertList(await ask(t, showCerts()));
    const inList = parseCrtListEntries(await ask(t, showCrtList()));
    const byName: CertificateOutcome['byName'] = {};
    // The running proxy first, the files after: a file equal to ours then means the proxy took it
    // (certificateStep), so an install cut short between the two is sent again next time.
    for (const name of cert.names) {
      const path = containerCertPath(name);
      const isLoaded = loaded.includes(path);
      const step = certificateStep({
        loaded: isLoaded,
        fileMatches: !stale.has(name),
        fingerprint,
        ...(isLoaded ? { servedFingerprint: parseCertFingerprint(await ask(t, showCert(name))) } : {}),
      });
      if (step === 'add') await ask(t, newCert(name));
      if (step !== 'none') {
        await ask(t, setCert(name, pem));
        await ask(t, commitCert(name));
      }
      byName[name] = step === 'add' ? 'added' : step === 'renew' ? 'renewed' : 'unchanged';
      if (!inList.includes(path)) {
        await ask(t, addCrtListEntry(name));
        if (byName[name] === 'unchanged') byName[name] = 'added';
      }
    }
    // On disk, so a restart keeps them: each file before the crt-list line naming it (HAProxy
    // refuses to start on a line whose file is missing).
    for (const name of stale) await writeCertFile(t, name, pem);
    const listed = parseCrtList(await run(t, readCrtListCommand(dirOf(t)), 'read the crt-list'));
    if (cert.names.some((n) => !listed.includes(n))) await run(t, writeCrtListCommand(renderCrtList([...listed, ...cert.names]), dirOf(t)), 'write the crt-list');
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
    if (running) {
      const inList = parseCrtListEntries(await ask(t, showCrtList()));
      const loaded = parseCertList(await ask(t, showCerts()));
      for (const name of names) {
        if (inList.includes(containerCertPath(name))) await ask(t, delCrtListEntry(name));
        if (loaded.includes(containerCertPath(name))) await ask(t, delCert(name));
      }
    }
    for (const name of names) await run(t, removeCertFileCommand(name, dirOf(t)), `remove the certificate of ${name}`);
    return names;
  });
}
