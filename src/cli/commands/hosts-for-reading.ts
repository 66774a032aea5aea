// Read-only commands (status, audit, logs...) talk to every host they can reach and report the
// ones they cannot, instead of failing as a whole.
import type { GangwayError } from '../../errors.js';
import type { Host } from '../../hosts/host.js';
import type { Session } from '../../deploy/session.js';

export async function reachableHosts(s: Session, names: string[] = s.pool.names()): Promise<{ hosts: Host[]; unreachable: number }> {
  // pre-connect first: its failure stops the command, it does not make every host "unreachable".
  await s.pool.ready();
  const hosts: Host[] = [];
  let unreachable = 0;
  await Promise.all(
    names.map(async (name) => {
      try {
        hosts.push(await s.pool.get(name));
      } catch (err) {
        unreachable++;
        s.events.log(`unreachable: ${(err as GangwayError).message}`, { level: 'error', host: name });
      }
    }),
  );
  hosts.sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name));
  return { hosts, unreachable };
}
