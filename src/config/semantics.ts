// Checks the schema cannot express, run on the merged raw input so they are reported together
// with schema problems (zod skips refinements of objects that already have issues).
import { isPlainObject } from './interpolate.js';
import type { PathProblem } from './issues.js';
import type { VarLookup } from './interpolate.js';
import { describeValue, type ValueTeller } from './problems.js';
import { OWN_CERTIFICATE_KEYS } from './secret-values.js';

export const SSL_WITHOUT_HOSTS_HINT = 'certificates are issued and chosen (SNI) by name: list the names in proxy.hosts, or set proxy.ssl: false';

/** Where a secret named at `path` stands: unset, empty, or fine (undefined). */
function secretProblem(path: (string | number)[], name: string, lookup: VarLookup): PathProblem | undefined {
  const found = lookup(name);
  if (!found) return { path, at: 'value', severity: 'error', message: `secret ${name} is not set in the environment or .gangway/secrets` };
  if (found.value === '') return { path, at: 'value', severity: 'error', message: `secret ${name} is empty (in the ${found.origin === 'env' ? 'environment' : '.gangway/secrets file'})` };
  return undefined;
}

export const ACME_MULTI_HOST_HINT = 'use your own certificate on every host: proxy.ssl: { certificate_pem: SECRET, private_key_pem: SECRET }';

/** The hosts of the proxied roles (a role's `proxy`, else only the primary role: see resolve.ts). */
function proxiedHostsOf(input: Record<string, unknown>): string[] {
  const servers = isPlainObject(input.servers) ? input.servers : {};
  const roles = Object.keys(servers);
  const primary = typeof input.primary_role === 'string' ? input.primary_role : roles[0];
  const hosts = new Set<string>();
  for (const name of roles) {
    const role = servers[name];
    if (!isPlainObject(role)) continue;
    const proxied = typeof role.proxy === 'boolean' ? role.proxy : name === primary;
    if (proxied && Array.isArray(role.hosts)) for (const h of role.hosts) if (typeof h === 'string') hosts.add(h);
  }
  return [...hosts];
}

/**
 * HTTP-01 proves a name by answering on it; with the name on several hosts, the CA's request may
 * reach a host whose lego did not ask, so each host's issuance would fail at random.
 */
function acmeHostProblems(input: Record<string, unknown>): PathProblem[] {
  const hosts = proxiedHostsOf(input);
  if (hosts.length <= 1) return [];
  return [{
    path: ['proxy', 'ssl'],
    at: 'value',
    severity: 'error',
    message: `ACME certificates (ssl: true) need the service's names on one host, but it is proxied on ${hosts.length} (${hosts.join(', ')}): an HTTP-01 challenge can reach a host that did not ask for it`,
    hint: ACME_MULTI_HOST_HINT,
  }];
}

/** A service with no proxy.hosts (missing, null or empty) is the catch-all: it has no names. */
const namesNoHost = (proxy: Record<string, unknown>): boolean => {
  const hosts = proxy.hosts;
  return hosts === undefined || hosts === null || (Array.isArray(hosts) && hosts.length === 0);
};

/** TLS needs names (SNI and ACME both work by name); an own certificate names two set secrets. */
function sslProblems(input: Record<string, unknown>, proxy: Record<string, unknown>, lookup: VarLookup): PathProblem[] {
  const ssl = proxy.ssl;
  if (ssl === undefined || ssl === false || ssl === null) return [];
  const problems: PathProblem[] = [];
  if (namesNoHost(proxy)) {
    problems.push({
      path: ['proxy', 'ssl'],
      at: 'key',
      severity: 'error',
      message: 'set without proxy.hosts: this service is the catch-all, which has no names to hold certificates for',
      hint: SSL_WITHOUT_HOSTS_HINT,
    });
  } else if (ssl === true) problems.push(...acmeHostProblems(input));
  if (isPlainObject(ssl)) {
    for (const key of OWN_CERTIFICATE_KEYS) {
      const name = ssl[key];
      if (typeof name !== 'string') continue;
      const problem = secretProblem(['proxy', 'ssl', key], name, lookup);
      if (problem) problems.push(problem);
    }
  }
  return problems;
}

export const PATH_PREFIX_WITHOUT_HOSTS_HINT = 'a path prefix routes within the names of proxy.hosts; add proxy.hosts or remove path_prefix';

/** `tell` shows a value in a message; the loader's withholds values that came from a secret. */
export function semanticProblems(input: unknown, lookup: VarLookup, tell: ValueTeller = (_path, value) => describeValue(value)): PathProblem[] {
  if (!isPlainObject(input)) return [];
  const problems: PathProblem[] = [];
  const servers = isPlainObject(input.servers) ? input.servers : undefined;
  const roleNames = servers ? Object.keys(servers) : [];

  if (typeof input.primary_role === 'string' && servers && !roleNames.includes(input.primary_role)) {
    const known = roleNames.length ? `expected one of the roles ${roleNames.join(', ')}` : 'expected a role defined under servers';
    problems.push({ path: ['primary_role'], at: 'value', severity: 'error', message: `${known}, got ${tell(['primary_role'], input.primary_role)}` });
  }

  const usedHosts = new Set<string>();
  for (const role of roleNames) {
    const hosts = isPlainObject(servers![role]) ? (servers![role] as Record<string, unknown>).hosts : undefined;
    if (!Array.isArray(hosts)) continue;
    const seenInRole = new Set<string>();
    hosts.forEach((host, i) => {
      if (typeof host !== 'string') return;
      usedHosts.add(host);
      if (seenInRole.has(host)) {
        problems.push({ path: ['servers', role, 'hosts', i], at: 'value', severity: 'error', message: `host ${tell(['servers', role, 'hosts', i], host)} is listed twice in this role` });
      }
      seenInRole.add(host);
    });
  }

  // Hosts that only run accessories are used too.
  if (isPlainObject(input.accessories)) {
    for (const a of Object.values(input.accessories)) {
      if (!isPlainObject(a)) continue;
      if (typeof a.host === 'string') usedHosts.add(a.host);
      if (Array.isArray(a.hosts)) for (const h of a.hosts) if (typeof h === 'string') usedHosts.add(h);
    }
  }

  // An unused entry is most often a typo in a role's host list; it is harmless, so a warning.
  if (isPlainObject(input.hosts) && servers) {
    for (const name of Object.keys(input.hosts)) {
      if (!usedHosts.has(name)) {
        problems.push({ path: ['hosts', name], at: 'key', severity: 'warning', message: `host ${JSON.stringify(name)} is not used by any role` });
      }
    }
  }

  // A prefix narrows the names of proxy.hosts; a service without them is the catch-all (every
  // name nobody claims, on every path), where a prefix would be silently ignored.
  const proxy = isPlainObject(input.proxy) ? input.proxy : undefined;
  if (proxy && typeof proxy.path_prefix === 'string') {
    if (namesNoHost(proxy)) {
      problems.push({
        path: ['proxy', 'path_prefix'],
        at: 'key',
        severity: 'error',
        message: 'set without proxy.hosts: this service is the catch-all, which answers every path, so the prefix would be ignored',
        hint: PATH_PREFIX_WITHOUT_HOSTS_HINT,
      });
    }
  }

  if (proxy) problems.push(...sslProblems(input, proxy, lookup));

  const env = isPlainObject(input.env) ? input.env : undefined;
  if (env && Array.isArray(env.secret)) {
    env.secret.forEach((name, i) => {
      if (typeof name !== 'string') return;
      const problem = secretProblem(['env', 'secret', i], name, lookup);
      if (problem) problems.push(problem);
    });
  }
  return problems;
}
