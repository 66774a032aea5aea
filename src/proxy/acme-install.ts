// ACME on one host's proxy (proxy.ssl: true): the service's names in the container's list, the
// gangway-acme container created (or recreated when its options changed) beside the proxy, a
// SIGHUP when the list changed, and a bounded wait for the first certificate of each name that
// has none. Under the host's route lock, as every other read-decide-apply of the proxy directory.
import type Docker from 'dockerode';
import { createContainer } from '../docker/containers.js';
import { isNotFound } from '../docker/errors.js';
import { inspectOrUndefined } from './addresses.js';
import { ACME_CONTAINER_NAME, ACME_IMAGE_HINT, acmeContainerSpec, type AcmeStatus } from './acme-container.js';
import {
  ACME_CA_FILE, issuanceOf, needsIssuance, parseAcmeLists, parseStatuses, readAcmeListsCommand, readStatusesCommand, removeOwnerNamesCommand, writeAcmeCaCommand,
  writeAcmeNamesCommand, writeOwnerNamesCommand,
} from './acme-files.js';
import { parseContainerUser } from './cert-commands.js';
import { specHash } from './container.js';
import { ensureImagePresent } from './lifecycle.js';
import { PROXY_CONTAINER_DIR, PROXY_CONTAINER_NAME, PROXY_LABEL } from './paths.js';
import { withRouteLock } from './route-lock.js';
import { dirOf, networkOf, ownerOfTarget, proxyError, type ProxyTarget } from './target.js';
import { run } from './certificates.js';

export interface AcmeSettings {
  image: string;
  directory: string;
  email?: string;
  renewDays: number;
  /** A private CA's root (PEM), trusted by lego for the directory's HTTPS. */
  caPem?: string;
  names: string[];
  /** How long to wait for the first certificate of a name. */
  issueTimeoutMs: number;
  /** Extra name:address entries for the container (a test CA reached by name). */
  extraHosts?: string[];
  pollMs?: number;
}

export interface AcmeOutcome {
  container: 'created' | 'recreated' | 'started' | 'unchanged';
  /** Names asked for now (new to the list, or never issued), and what came of them. */
  issued: string[];
  listChanged: boolean;
}

const readStatuses = async (t: ProxyTarget, names: string[]): Promise<Map<string, AcmeStatus>> =>
  parseStatuses(await run(t, readStatusesCommand(names, dirOf(t)), 'read the ACME status files'));

/** The status files of these names on this host (for status and verify). */
export const acmeStatuses = readStatuses;

async function ensureContainer(t: ProxyTarget, docker: Docker, a: AcmeSettings): Promise<AcmeOutcome['container']> {
  const proxy = await inspectOrUndefined(docker.getContainer(t.containerName ?? PROXY_CONTAINER_NAME));
  const owner = parseContainerUser(proxy?.Config.User);
  if (!owner) throw proxyError(t, `the proxy container on ${t.host.name} runs as no numeric uid:gid; cannot give the ACME container its files`, { hint: 'run `gangway setup` to recreate it' });
  const spec = acmeContainerSpec({
    image: a.image,
    network: networkOf(t),
    directory: a.directory,
    ...(a.email ? { email: a.email } : {}),
    renewDays: a.renewDays,
    proxyUid: owner.uid,
    proxyGid: owner.gid,
    ...(a.caPem ? { caCertificatesFile: `${PROXY_CONTAINER_DIR}/${ACME_CA_FILE}` } : {}),
    hostDir: dirOf(t),
    ...(a.extraHosts?.length ? { extraHosts: a.extraHosts } : {}),
  });
  spec.Labels![PROXY_LABEL.spec] = specHash({ ...spec, Image: await ensureImagePresent(t, docker, a.image, { what: 'ACME', key: 'proxy.acme.image', hint: ACME_IMAGE_HINT }) });
  const existing = await inspectOrUndefined(docker.getContainer(ACME_CONTAINER_NAME));
  if (existing && existing.Config.Labels?.[PROXY_LABEL.spec] === spec.Labels![PROXY_LABEL.spec]) {
    if (existing.State.Running) return 'unchanged';
    await docker.getContainer(existing.Id).start();
    return 'started';
  }
  if (existing) await docker.getContainer(existing.Id).remove({ force: true });
  await (await createContainer(docker, spec)).start();
  return existing ? 'recreated' : 'created';
}

/** The container's list made the union of every owner's: whether it changed, and the names. */
async function syncAcmeList(t: ProxyTarget): Promise<{ changed: boolean; wanted: string[] }> {
  const { wanted, current } = parseAcmeLists(await run(t, readAcmeListsCommand(dirOf(t)), 'read the ACME names'));
  if (wanted.join('\n') === current.join('\n')) return { changed: false, wanted };
  await run(t, writeAcmeNamesCommand(wanted, dirOf(t)), 'write the ACME names list');
  return { changed: true, wanted };
}

/**
 * gangway remove: the service's names leave the list (no more renewals for them; the proxy's
 * certificates are removeCertificates' business). The container stays for the other owners, and
 * is removed with the last one (lego's volume stays: its account serves the next ACME service).
 */
export async function withdrawAcmeNames(t: ProxyTarget): Promise<void> {
  const docker = await t.host.docker();
  await withRouteLock(t, async () => {
    await run(t, removeOwnerNamesCommand(ownerOfTarget(t), dirOf(t)), 'remove the ACME names');
    const { wanted } = await syncAcmeList(t);
    if (wanted.length === 0) await docker.getContainer(ACME_CONTAINER_NAME).remove({ force: true }).catch((err: unknown) => { if (!isNotFound(err)) throw err; });
  });
}

/** Lists the service's names, runs the container, and waits (bounded) for each name's first certificate. */
export async function ensureAcme(t: ProxyTarget, a: AcmeSettings): Promise<AcmeOutcome> {
  const docker = await t.host.docker();
  const { container, asked, before, listChanged } = await withRouteLock(t, async () => {
    if (a.caPem) await run(t, writeAcmeCaCommand(a.caPem, dirOf(t)), 'write the ACME CA file');
    await run(t, writeOwnerNamesCommand(ownerOfTarget(t), a.names, dirOf(t)), 'write the ACME names');
    const listChanged = (await syncAcmeList(t)).changed;
    const before = await readStatuses(t, a.names);
    const asked = a.names.filter((n) => needsIssuance(before.get(n)));
    const container = await ensureContainer(t, docker, a);
    // A container that just started makes a pass by itself; a running one is asked for one.
    if (container === 'unchanged' && (listChanged || asked.length > 0)) await docker.getContainer(ACME_CONTAINER_NAME).kill({ signal: 'SIGHUP' });
    return { container, asked, before, listChanged };
  });
  if (asked.length > 0) await waitIssued(t, asked, before, a);
  return { container, issued: asked, listChanged };
}

async function waitIssued(t: ProxyTarget, names: string[], before: Map<string, AcmeStatus>, a: AcmeSettings): Promise<void> {
  const deadline = Date.now() + a.issueTimeoutMs;
  t.events?.log(`waiting (at most ${Math.round(a.issueTimeoutMs / 1000)} s) for ACME certificates of ${names.join(', ')}`, { host: t.host.name, step: 'acme' });
  for (;;) {
    const now = await readStatuses(t, names);
    const failed = names.filter((n) => issuanceOf(before.get(n), now.get(n)) === 'failed');
    if (failed.length > 0) {
      throw proxyError(t, `the ACME CA did not issue a certificate for ${failed.join(', ')}`, {
        details: failed.map((n) => `${n}: ${now.get(n)?.lastError ?? 'no error recorded'}`),
        hint: 'the name must resolve to this host and its port 80 must reach the proxy (HTTP-01); `docker logs gangway-acme` on the host says more',
      });
    }
    if (names.every((n) => issuanceOf(before.get(n), now.get(n)) === 'issued')) return;
    if (Date.now() > deadline) {
      const waiting = names.filter((n) => issuanceOf(before.get(n), now.get(n)) !== 'issued');
      throw proxyError(t, `no ACME certificate for ${waiting.join(', ')} within ${Math.round(a.issueTimeoutMs / 1000)} s`, {
        hint: 'raise proxy.acme.issue_timeout, or see `docker logs gangway-acme` on the host; the container keeps trying',
      });
    }
    await new Promise((r) => setTimeout(r, a.pollMs ?? 1000));
  }
}
