// `gangway status`: per host and role, the live version, the proxy's target, health and the
// retained versions; plus who holds the deploy lock.
import { primaryHostOf } from '../../fleet/session.js';
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
