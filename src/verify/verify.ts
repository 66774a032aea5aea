// `gangway verify` as a service: every host in parallel, its declared checks in one script and
// the built-in invariants read from Docker and the proxy; one structured report.
import type { LoadedConfig } from '../config/load.js';
import { GangwayError, messageOf } from '../errors.js';
import type { Events } from '../events/events.js';
import type { Host } from '../hosts/host.js';
import { proxyTargetFromConfig } from '../config/proxy-target.js';
import { errorResult } from './evaluate.js';
import { judgeInvariants, observeInvariants } from './invariants.js';
import { deploymentOf } from '../state/deployment.js';
import { planChecks } from './plan.js';
import { runHostChecks } from './run.js';
import { certificateInvariant, sslNamesOf } from './certificate-invariant.js';
import { trustedRoots } from './certificate-probe.js';
import { acmeStatuses } from '../proxy/acme-install.js';
import type { VerifySpec } from '../checks/spec.js';
import { BUILT_IN_ORIGIN, type CheckResult } from '../checks/types.js';

export interface VerifyOptions {
  loaded: LoadedConfig;
  spec: VerifySpec;
  /** Connects (or returns the connected) host by name; a rejection marks the host unreachable. */
  host(name: string): Promise<Host>;
  events?: Events;
  /** Skip the built-in invariants (the declared checks only). */
  builtIns?: boolean;
}

export interface VerifyReport {
  /** Host names, config order. */
  hosts: string[];
  /** Per host: script checks in declaration order, then invariants. */
  results: CheckResult[];
  durationMs: number;
}

export interface VerifySummary {
  hosts: number;
  checks: number;
  passed: number;
  failed: number;
  errors: number;
}

export function summarize(report: Pick<VerifyReport, 'hosts' | 'results'>): VerifySummary {
  const count = (s: CheckResult['status']) => report.results.filter((r) => r.status === s).length;
  return { hosts: report.hosts.length, checks: report.results.length, passed: count('pass'), failed: count('fail'), errors: count('error') };
}

export async function verifyHosts(opts: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const { loaded, events } = opts;
  const hostNames = loaded.hostTargets.map((t) => t.name);
  const builtIns = opts.builtIns ?? true;
  const plan = planChecks(opts.spec, loaded.roles, hostNames, builtIns);
  const perHost = await Promise.all(
    hostNames.map(async (name): Promise<CheckResult[]> => {
      const checks = plan.get(name) ?? [];
      const hostStarted = Date.now();
      events?.step('verify', 'start', { host: name, message: `${checks.length} check(s)` });
      let host: Host;
      try {
        host = await opts.host(name);
      } catch (err) {
        events?.step('verify', 'fail', { host: name, message: 'unreachable' });
        const why = `host unreachable: ${err instanceof GangwayError ? err.message : messageOf(err)}`;
        const connect = { type: 'host', subject: name, spec: {}, origin: BUILT_IN_ORIGIN, title: `connect to ${name}` };
        return [errorResult(name, connect, why), ...checks.map((c) => errorResult(name, c, why))];
      }
      const roles = loaded.roles.filter((r) => r.hosts.includes(name));
      const proxied = roles.some((r) => r.proxied);
      const [declared, invariants] = await Promise.all([
        runHostChecks(host, checks),
        builtIns ? invariantResults(host, loaded, roles, proxied) : Promise.resolve([]),
      ]);
      const results = [...declared, ...invariants];
      const bad = results.filter((r) => r.status !== 'pass').length;
      events?.step('verify', bad ? 'fail' : 'done', { host: name, message: `${results.length - bad}/${results.length} passed`, durationMs: Date.now() - hostStarted });
      return results;
    }),
  );
  return { hosts: hostNames, results: perHost.flat(), durationMs: Date.now() - started };
}

async function invariantResults(host: Host, loaded: LoadedConfig, roles: LoadedConfig['roles'], proxied: boolean): Promise<CheckResult[]> {
  const { config } = loaded;
  let results: CheckResult[];
  try {
    const observed = await observeInvariants(host, deploymentOf(loaded), proxied ? proxyTargetFromConfig(host, loaded) : undefined);
    results = judgeInvariants(observed, { service: config.service, roles, retain: config.retain });
  } catch (err) {
    return [errorResult(host.name, { type: 'invariant', subject: 'built-in invariants', spec: {}, origin: BUILT_IN_ORIGIN }, `cannot read Docker or the proxy: ${messageOf(err)}`)];
  }
  return [...results, ...(await certificateResults(host, loaded))];
}

/**
 * certificates-served on a host with ssl names: the chain judged against node's roots plus
 * proxy.acme.ca_file (a private CA's root, for ACME or own certificates); for ACME names, the
 * renewal container's last attempt too.
 */
async function certificateResults(host: Host, loaded: LoadedConfig): Promise<CheckResult[]> {
  const names = sslNamesOf(loaded, host.name);
  if (names.length === 0) return [];
  const { proxy } = loaded.config;
  try {
    const roots = await trustedRoots(proxy.acme?.ca_file, loaded.baseDir);
    const renewals = proxy.ssl === true ? await acmeStatuses(proxyTargetFromConfig(host, loaded), names) : undefined;
    return await certificateInvariant(host, loaded, roots, renewals);
  } catch (err) {
    return [errorResult(host.name, { type: 'invariant', subject: 'certificates-served', spec: {}, origin: BUILT_IN_ORIGIN }, `cannot check the certificates: ${messageOf(err)}`)];
  }
}
