// The certificates-served invariant (issue 15): on every host that serves HTTPS, every name of
// proxy.ssl serves a certificate that chains to a trusted root, matches the name and is not
// within CERT_RENEWAL_MARGIN_DAYS of expiry. The ACME container renews ~30 days ahead, so a
// certificate this close to its end means renewal has been failing for two weeks. The judgement
// is pure; `certificateInvariant` observes (one handshake per name through the host's connection)
// and judges, for verify to call once the config has proxy.ssl.
import type { LoadedConfig } from '../config/load.js';
import type { Host } from '../hosts/host.js';
import { certificateFactsOf, daysLeft, type CertificateFacts } from '../checks/resources/certificate.js';
import { expectation } from '../checks/resources/resource.js';
import type { CheckResult, Expectation } from '../checks/types.js';
import { observeCertificate } from './certificate-probe.js';
import { resultFrom } from './evaluate.js';
import { invariant } from './invariants.js';

export const CERT_RENEWAL_MARGIN_DAYS = 14;
const DEFAULT_HTTPS_PORT = 443;
const HANDSHAKE_TIMEOUT_MS = 5000;

/** The names a host serves over HTTPS. */
export interface HostSslNames {
  host: string;
  names: string[];
}

/** What is wrong with one served certificate, or undefined when nothing is. */
export function certificateProblem(f: CertificateFacts, minDays = CERT_RENEWAL_MARGIN_DAYS): string | undefined {
  if (!f.connected) return `no certificate (${f.error ?? 'no handshake'})`;
  const problems: string[] = [];
  if (!f.chainOk) problems.push(`does not chain to a trusted root (${f.chainError ?? 'unknown reason'})`);
  if (!f.nameOk) problems.push(`does not match the name (${f.nameError ?? `names ${(f.names ?? []).join(', ')}`})`);
  const left = daysLeft(f);
  if (left === undefined) problems.push('has no readable expiry');
  else if (left < minDays) problems.push(left < 0 ? `expired ${-left} day(s) ago (${f.notAfter})` : `expires in ${left} day(s) (${f.notAfter}), within ${minDays}`);
  return problems.length ? problems.join('; ') : undefined;
}

/**
 * One result per host: an expectation per name, failing with the host, the name and what is
 * wrong. A name with no observation (never looked at) fails too: silence is not a pass.
 */
export function judgeCertificates(hosts: readonly HostSslNames[], observed: (host: string, name: string) => CertificateFacts | undefined, renewal?: (host: string, name: string) => LastRenewal | undefined): CheckResult[] {
  return hosts.filter((h) => h.names.length > 0).map(({ host, names }) => {
    const expectations: Expectation[] = names.flatMap((name) => {
      const facts = observed(host, name);
      const problem = facts ? certificateProblem(certificateFactsOf({ ...facts })) : 'was not observed';
      const served = expectation(`certificate ${name} on ${host}`, `chains to a trusted root, matches ${name}, ${CERT_RENEWAL_MARGIN_DAYS}+ days left`, problem ? `${name} on ${host}: ${problem}` : 'ok', !problem);
      return renewal ? [served, renewalExpectation(host, name, renewal(host, name))] : [served];
    });
    return resultFrom(host, invariant('certificates-served'), expectations);
  });
}

/** The ACME container's last attempt for a name (its status file). */
export interface LastRenewal {
  result: 'ok' | 'failed';
  lastAttempt: string;
  lastError?: string;
}

/**
 * A failed renewal fails the invariant at once, while the old certificate still serves: by the
 * time the served certificate is within the margin, weeks of retries have gone by.
 */
function renewalExpectation(host: string, name: string, last: LastRenewal | undefined): Expectation {
  const problem = !last ? 'no ACME attempt recorded (no status file)' : last.result === 'failed' ? `last ACME renewal failed (${last.lastAttempt}): ${last.lastError ?? 'no error recorded'}` : undefined;
  return expectation(`renewal ${name} on ${host}`, 'the last ACME attempt succeeded', problem ? `${name} on ${host}: ${problem}` : `ok (${last!.lastAttempt})`, !problem);
}

/**
 * The ssl names of this host, read defensively from the config: `proxy.ssl` set and
 * `proxy.hosts` listed, and the host runs a proxied role. [] otherwise (also while the schema has
 * no `proxy.ssl`).
 */
export function sslNamesOf(loaded: Pick<LoadedConfig, 'config' | 'roles'>, host: string): string[] {
  const proxy = (loaded.config as { proxy?: Record<string, unknown> }).proxy;
  if (!proxy || !proxy.ssl) return [];
  const names = Array.isArray(proxy.hosts) ? proxy.hosts.filter((n): n is string => typeof n === 'string') : [];
  return loaded.roles.some((r) => r.proxied && r.hosts.includes(host)) ? names : [];
}

/**
 * Observes and judges one host's names: handshakes to the proxy's HTTPS port (proxy.https_port,
 * else 443) at its bind address (127.0.0.1 when it binds every interface), trusting node's roots.
 */
export async function certificateInvariant(host: Host, loaded: Pick<LoadedConfig, 'config' | 'roles'>, roots?: string[], renewals?: ReadonlyMap<string, LastRenewal>): Promise<CheckResult[]> {
  const names = sslNamesOf(loaded, host.name);
  if (names.length === 0) return [];
  const proxy = (loaded.config as { proxy?: { https_port?: unknown; bind?: unknown } }).proxy ?? {};
  const port = typeof proxy.https_port === 'number' ? proxy.https_port : DEFAULT_HTTPS_PORT;
  const address = typeof proxy.bind === 'string' && proxy.bind !== '' ? proxy.bind : '127.0.0.1';
  const seen = new Map<string, CertificateFacts>();
  await Promise.all(names.map(async (name) => { seen.set(name, await observeCertificate(host, { certificate: name, address, port, timeout: HANDSHAKE_TIMEOUT_MS }, roots)); }));
  return judgeCertificates([{ host: host.name, names }], (_h, name) => seen.get(name), renewals ? (_h, name) => renewals.get(name) : undefined);
}
