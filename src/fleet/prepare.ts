// Host preparation shared by setup and deploy (idempotent): Docker answers, the app network
// exists, proxied hosts run the proxy. Installing Docker is setup's alone (engine-install.ts).
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { configError, GangwayError, messageOf, operationError } from '../errors.js';
import { ensureAcme, type AcmeSettings } from '../proxy/acme-install.js';
import type { Host } from '../hosts/host.js';
import { ensureNetwork, ensureProxy, proxyUpToDate, type EnsureProxyOptions } from '../proxy/lifecycle.js';
import { installCertificate, type OwnCertificate } from '../proxy/certificates.js';
import { DEFAULT_APP_NETWORK } from '../proxy/target.js';
import { probeDocker } from './engine-install.js';
import { DEFAULT_ACME_IMAGE, DEFAULT_ISSUE_TIMEOUT_MS, DEFAULT_RENEW_DAYS, httpsPortOf, LETS_ENCRYPT_DIRECTORY } from '../config/schema.js';
import { proxyTarget, type Session } from './session.js';

export const APP_NETWORK = DEFAULT_APP_NETWORK;

/** Engines that answered during this command (a deploy asks before its lock and again in prepare). */
const answered = new WeakMap<Host, string>();

export async function ensureDocker(host: Host): Promise<string> {
  const known = answered.get(host);
  if (known !== undefined) return known;
  try {
    const docker = await host.docker();
    const v = await docker.version();
    answered.set(host, v.Version);
    return v.Version;
  } catch (err) {
    throw await dockerMissingError(host, err);
  }
}

/**
 * Why Docker does not answer, in words that say what to do. Only `gangway setup` installs and
 * starts the engine; every other command stops here.
 */
async function dockerMissingError(host: Host, err: unknown): Promise<GangwayError> {
  const probe = await probeDocker(host).catch(() => undefined);
  const why = !probe
    ? `Docker does not answer on ${host.name}: ${messageOf(err)}`
    : !probe.cli || !probe.dockerd
      ? `Docker is not installed on ${host.name}`
      : probe.engine === 'denied'
        ? `${probe.user} may not use the Docker engine on ${host.name}`
        : `the Docker engine is not running on ${host.name}`;
  return operationError(why, { host: host.name, step: 'docker', hint: 'run `gangway setup` (it installs Debian\'s docker.io, starts the engine and lets the SSH user use it)', cause: err });
}

/** Every host's engine answers, or one error naming each host that does not; before anything is pulled. */
export async function assertDockerReady(hosts: Host[]): Promise<void> {
  const settled = await Promise.allSettled(hosts.map((h) => ensureDocker(h)));
  const failures = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as GangwayError] : []));
  if (failures.length === 0) return;
  if (failures.length === 1) throw failures[0]!;
  throw new GangwayError('operation', `Docker is not ready on ${failures.map((f) => f.host).join(', ')}; nothing was changed`, {
    step: 'docker',
    details: failures.map((f) => f.message),
    hint: failures[0]!.hint ?? 'run `gangway setup`',
  });
}

/** The service's own certificate (proxy.ssl naming two secrets), with the secrets' values. */
function ownCertificate(s: Session): OwnCertificate | undefined {
  const { config, secrets } = s.loaded;
  const ssl = config.proxy.ssl;
  if (typeof ssl !== 'object' || !config.proxy.hosts) return undefined;
  // The loader refused unset or empty secrets (exit 2), so both are here.
  return {
    names: config.proxy.hosts,
    certificatePem: secrets[ssl.certificate_pem]!,
    privateKeyPem: secrets[ssl.private_key_pem]!,
    certificateSecret: ssl.certificate_pem,
  };
}

/** Whether the service's certificates come from ACME (proxy.ssl: true with proxy.hosts). */
const wantsAcme = (s: Session): boolean => s.loaded.config.proxy.ssl === true && s.loaded.config.proxy.hosts !== undefined;

/** ACME settings of the service (proxy.ssl: true), the CA file read from the runner; a missing file is bad input (exit 2). */
export async function acmeSettings(s: Session): Promise<AcmeSettings | undefined> {
  const { config, baseDir } = s.loaded;
  const { proxy } = config;
  if (!wantsAcme(s) || !proxy.hosts) return undefined;
  const acme = proxy.acme ?? { directory: LETS_ENCRYPT_DIRECTORY, image: DEFAULT_ACME_IMAGE, renew_days: DEFAULT_RENEW_DAYS, issue_timeout: DEFAULT_ISSUE_TIMEOUT_MS };
  let caPem: string | undefined;
  if (acme.ca_file) {
    const path = resolve(baseDir, acme.ca_file);
    try {
      caPem = await readFile(path, 'utf8');
    } catch (err) {
      throw configError(`proxy.acme.ca_file: cannot read ${path}: ${messageOf(err)}`, { hint: 'name a PEM file with the root of your ACME CA, relative to the config file' });
    }
    if (!caPem.includes('-----BEGIN CERTIFICATE-----')) throw configError(`proxy.acme.ca_file: ${path} holds no PEM certificate`);
  }
  return {
    image: acme.image,
    directory: acme.directory,
    ...(acme.email ? { email: acme.email } : {}),
    renewDays: acme.renew_days,
    issueTimeoutMs: acme.issue_timeout,
    ...(caPem ? { caPem } : {}),
    ...(acme.extra_hosts ? { extraHosts: acme.extra_hosts } : {}),
    names: [...proxy.hosts],
  };
}

export async function ensureAppNetwork(host: Host): Promise<void> {
  await ensureNetwork(await host.docker(), APP_NETWORK);
}

/** The proxy settings ensureProxy brings a host's proxy to, from the config. */
function proxyOptions(s: Session): EnsureProxyOptions {
  const cfg = s.loaded.config;
  return {
    image: cfg.proxy.image,
    httpPort: cfg.proxy.http_port,
    ...(httpsPortOf(cfg.proxy) !== undefined ? { httpsPort: httpsPortOf(cfg.proxy)! } : {}),
    publishAddress: cfg.proxy.bind,
    uid: cfg.proxy.uid,
  };
}

/**
 * Read only (run beside the pull): the proxied hosts whose proxy already is as prepareHosts would
 * make it (proxyUpToDate). Empty when the config brings certificates or ACME: those are installed
 * by prepareHosts on every host.
 */
export async function proxiesUpToDate(s: Session, hosts: Map<string, Host>, proxied: Set<string>): Promise<Set<string>> {
  if (ownCertificate(s) || wantsAcme(s)) return new Set();
  const opts = proxyOptions(s);
  const answers = await Promise.all([...hosts.values()].filter((h) => proxied.has(h.name)).map(async (h) => [h.name, await proxyUpToDate(proxyTarget(s, h), opts)] as const));
  return new Set(answers.filter(([, ok]) => ok).map(([name]) => name));
}

/**
 * Docker, network and (on proxied hosts) the proxy, on every host in parallel. `upToDate`: hosts
 * whose proxy was found as wanted during the pull (proxiesUpToDate), not ensured again.
 */
export async function prepareHosts(s: Session, hosts: Map<string, Host>, proxied: Set<string>, upToDate: Set<string> = new Set()): Promise<void> {
  const acme = await acmeSettings(s);
  const errors: GangwayError[] = [];
  await Promise.all(
    [...hosts.values()].map(async (host) => {
      const started = Date.now();
      s.events.step('prepare', 'start', { host: host.name });
      try {
        await ensureDocker(host);
        await ensureAppNetwork(host);
        if (proxied.has(host.name) && upToDate.has(host.name)) {
          s.events.log('proxy as wanted (checked while the image was pulled)', { host: host.name, step: 'proxy' });
        } else if (proxied.has(host.name)) {
          const target = proxyTarget(s, host);
          await ensureProxy(target, proxyOptions(s));
          const own = ownCertificate(s);
          if (own) {
            const out = await installCertificate(target, own);
            s.events.log(`certificate ${Object.entries(out.byName).map(([n, what]) => `${n} ${what}`).join(', ')}`, { host: host.name, step: 'proxy' });
          }
          if (acme) {
            const out = await ensureAcme(target, acme);
            s.events.log(`ACME container ${out.container}${out.issued.length ? `; issued ${out.issued.join(', ')}` : ''}`, { host: host.name, step: 'proxy' });
          }
        }
        s.events.step('prepare', 'done', { host: host.name, durationMs: Date.now() - started });
      } catch (err) {
        s.events.step('prepare', 'fail', { host: host.name, message: messageOf(err) });
        errors.push(err instanceof GangwayError ? err : operationError(messageOf(err), { host: host.name, step: 'prepare', cause: err }));
      }
    }),
  );
  if (errors.length > 0) {
    // A route conflict on a shared proxy is the user's to fix (exit 2), whatever else failed.
    const conflict = errors.find((e) => e.code === 'config');
    if (conflict) throw conflict;
    const first = errors[0]!;
    throw new GangwayError('operation', errors.length === 1 ? first.message : `preparing ${errors.length} hosts failed`, {
      host: first.host,
      step: 'prepare',
      details: [...errors.flatMap((e) => (errors.length === 1 ? e.details : [`${e.host}: ${e.message}`, ...e.details]))],
      ...(first.hint ? { hint: first.hint } : {}),
    });
  }
}
