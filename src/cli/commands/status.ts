// `gangway status`: per host and role, the live version, the proxy's target, health and the
// retained versions; plus who holds the deploy lock.
import { primaryHostOf, proxyTarget } from '../../fleet/session.js';
import { sslNamesOf } from '../../verify/certificate-invariant.js';
import { certificatesOf, describeNameCertificate } from '../../proxy/cert-status.js';
import { observeForStatus, roleStatus } from '../../deploy/status.js';
import { describeLockHolder, holderState, lockStatus } from '../../state/lock.js';
import { runCommand, type GlobalOptions } from '../context.js';
import { sessionForCommand } from '../load.js';
import { reachableHosts } from '../../fleet/connect.js';

export async function run(globals: GlobalOptions): Promise<number> {
  return runCommand('status', globals, async (ctx) => {
    const s = await sessionForCommand(ctx);
    try {
      const { hosts, unreachable } = await reachableHosts(s);
      await Promise.all(
        hosts.map(async (host) => {
          const observed = await observeForStatus(s, host);
          for (const role of s.loaded.roles.filter((r) => r.hosts.includes(host.name))) {
            const st = roleStatus(observed, role);
            s.events.result('status', { ...st }, { host: host.name, role: role.name });
            const proxy = role.proxied ? ` proxy -> ${st.proxyTargets.join(', ') || '(none)'}` : '';
            s.events.log(`live ${st.liveVersion ?? '(none)'} health ${st.health}${proxy} retained ${st.retainedVersions.join(', ') || '(none)'}`, { host: host.name, role: role.name });
          }
          // Each ssl name: what the proxy serves and, for ACME, the last renewal (a failure with the CA's answer).
          const names = sslNamesOf(s.loaded, host.name);
          if (names.length > 0 && observed.proxyServers) {
            const now = new Date();
            for (const c of await certificatesOf(proxyTarget(s, host), names, s.loaded.config.proxy.ssl === true)) {
              s.events.result('certificate', { ...c }, { host: host.name });
              s.events.log(`certificate ${describeNameCertificate(c, now)}`, { host: host.name, ...(c.renewal?.result === 'failed' ? { level: 'warn' as const } : {}) });
            }
          }
        }),
      );
      const primary = hosts.find((h) => h.name === primaryHostOf(s));
      if (primary) {
        const lock = await lockStatus(primary, s.deployment);
        s.events.result('lock', lock.held ? { held: true, ...(lock.details ?? {}) } : { held: false }, { host: primary.name });
        s.events.log(lock.held ? `deploy lock ${describeLockHolder(lock.details, new Date(), holderState(lock.details))}` : 'deploy lock free', { host: primary.name });
      }
      return unreachable > 0 ? 1 : 0;
    } finally {
      await s.close();
    }
  });
}
