// What `gangway setup` does before its deploy: Docker on every host (installed and started where
// missing), the app network, then the accessories, so the app finds its database at first boot.
import { GangwayError, messageOf, operationError } from '../errors.js';
import type { Host } from '../hosts/host.js';
import { APP_NETWORK, ensureAppNetwork, ensureDocker } from '../deploy/prepare.js';
import type { Session } from '../deploy/session.js';
import { accessoryHosts, allAccessoryHosts } from './accessory-spec.js';
import { bootAccessory, type AccessoryContext, type BootResult } from './accessory.js';
import { connectHosts } from './hosts.js';
import { provisionAll, type ProvisionOutcome } from './provision.js';

export interface SetupPreparation {
  docker: ProvisionOutcome[];
  accessories: Array<{ name: string; host: string; result: BootResult }>;
}

export const accessoryContext = (s: Session): AccessoryContext => ({ config: s.loaded.config, secrets: s.loaded.secrets, network: APP_NETWORK, events: s.events });

/** Every host of the config: the roles' first, then those only accessories use. */
export const setupHostNames = (s: Session): string[] => [...new Set([...s.pool.names(), ...allAccessoryHosts(s.loaded.config)])];

export async function prepareForSetup(s: Session): Promise<SetupPreparation> {
  const cfg = s.loaded.config;
  const set = await connectHosts(s, setupHostNames(s));
  try {
    const all = [...set.hosts.values()];
    // The local engine is the runner's own: gangway never installs software on the machine it runs on.
    const remote = all.filter((h) => h.kind !== 'local');
    const docker = await provisionAll(remote, { install: cfg.docker.install, insecureRegistries: cfg.docker.insecure_registries }, s.events);
    await Promise.all(all.filter((h) => h.kind === 'local').map((h) => ensureDocker(h)));
    const accessories = await bootAllAccessories(s, set.hosts);
    return { docker, accessories };
  } finally {
    await set.close();
  }
}

/** Per host in parallel, accessories in config order on each; one error naming every failure. */
export async function bootAllAccessories(s: Session, hosts: Map<string, Host>, only?: string[]): Promise<SetupPreparation['accessories']> {
  const ctx = accessoryContext(s);
  const entries = Object.entries(s.loaded.config.accessories).filter(([name]) => !only || only.includes(name));
  const byHost = new Map<string, string[]>();
  for (const [name, a] of entries) for (const h of accessoryHosts(a)) byHost.set(h, [...(byHost.get(h) ?? []), name]);
  const results: SetupPreparation['accessories'] = [];
  const failures: GangwayError[] = [];
  await Promise.all(
    [...byHost].map(async ([hostName, names]) => {
      const host = hosts.get(hostName)!;
      try {
        await ensureAppNetwork(host);
      } catch (err) {
        failures.push(operationError(`could not create the app network on ${hostName}: ${messageOf(err)}`, { host: hostName, step: 'network', cause: err }));
        return;
      }
      for (const name of names) {
        try {
          results.push({ name, host: hostName, result: await bootAccessory(host, ctx, name) });
        } catch (err) {
          failures.push(err instanceof GangwayError ? err : operationError(messageOf(err), { host: hostName, step: `accessory ${name}`, cause: err }));
        }
      }
    }),
  );
  if (failures.length === 1) throw failures[0]!;
  if (failures.length > 1) {
    throw new GangwayError('operation', `${failures.length} accessories did not boot`, { step: 'accessory', details: failures.map((f) => `${f.host}: ${f.message}`), ...(failures[0]!.hint ? { hint: failures[0]!.hint } : {}) });
  }
  return results;
}
