// What `gangway setup` does before its deploy: Docker on every host (installed and started where
// missing), the app network, then the accessories, so the app finds its database at first boot.
import { GangwayError, messageOf, operationError } from '../errors.js';
import type { Host } from '../hosts/host.js';
import { describePlan, planDeploy, type ObservedHost } from '../deploy/plan.js';
import { observeForStatus } from '../deploy/status.js';
import { connectHosts, type ConnectOptions } from '../fleet/connect.js';
import { planDockerProvision } from '../fleet/engine-install-plan.js';
import { probeDocker, provisionAll, type ProvisionOutcome } from '../fleet/engine-install.js';
import { APP_NETWORK, ensureAppNetwork, ensureDocker } from '../fleet/prepare.js';
import { imageRef, type Session } from '../fleet/session.js';
import { accessoryContainerName, accessoryHosts, allAccessoryHosts } from './accessory-spec.js';
import { bootAccessory, findAccessory, type AccessoryContext, type BootResult } from './accessory.js';
import { describeSetupPlan, type AccessoryFinding, type EngineFinding, type SetupPlan } from './setup-plan.js';

export interface SetupPreparation {
  docker: ProvisionOutcome[];
  accessories: Array<{ name: string; host: string; result: BootResult }>;
}

export const accessoryContext = (s: Session): AccessoryContext => ({ config: s.loaded.config, secrets: s.loaded.secrets, network: APP_NETWORK, events: s.events });

/** Every host of the config: the roles' first, then those only accessories use. */
export const setupHostNames = (s: Session): string[] => [...new Set([...s.pool.names(), ...allAccessoryHosts(s.loaded.config)])];

/** Setup touches every host it names, accessory-only ones too: all of them answer, or nothing is done. */
export const SETUP_CONNECT: ConnectOptions = { policy: 'all-or-nothing', beyondPool: true };

export async function prepareForSetup(s: Session): Promise<SetupPreparation> {
  const cfg = s.loaded.config;
  const set = await connectHosts(s, setupHostNames(s), SETUP_CONNECT);
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

/**
 * `setup --dry-run`: probes every host (read-only: the probe runs as the SSH user, without sudo),
 * asks the engines that answer for the accessories and the app's containers, and plans. Hosts
 * without a running engine read as empty, as setup would find them once Docker is there.
 */
export async function planSetup(s: Session, version: string): Promise<SetupPlan> {
  const cfg = s.loaded.config;
  const set = await connectHosts(s, setupHostNames(s), SETUP_CONNECT);
  try {
    const all = [...set.hosts.values()];
    const policy = { install: cfg.docker.install, insecureRegistries: cfg.docker.insecure_registries };
    const probed = await Promise.all(
      all.map(async (h): Promise<{ finding: EngineFinding; answers: boolean }> => {
        if (h.kind === 'local') return { finding: { host: h.name, local: true }, answers: true };
        const probe = await probeDocker(h);
        return { finding: { host: h.name, local: false, plan: planDockerProvision(probe, policy) }, answers: probe.engine === 'running' };
      }),
    );
    const answering = new Set(probed.filter((p) => p.answers).map((p) => p.finding.host));
    const accessories: AccessoryFinding[] = [];
    for (const [name, a] of Object.entries(cfg.accessories)) {
      for (const hostName of accessoryHosts(a)) {
        const container = accessoryContainerName(cfg.service, name);
        if (!answering.has(hostName)) {
          accessories.push({ name, host: hostName, container, state: 'unknown' });
          continue;
        }
        const found = await findAccessory(set.hosts.get(hostName)!, cfg.service, name).catch(() => 'unknown' as const);
        accessories.push({ name, host: hostName, container, state: found === 'unknown' ? 'unknown' : !found ? 'missing' : found.running ? 'running' : 'stopped' });
      }
    }
    const observed = new Map<string, ObservedHost>();
    await Promise.all(
      s.pool.names().filter((n) => answering.has(n)).map(async (n) => {
        const seen = await observeForStatus(s, set.hosts.get(n)!).catch(() => undefined);
        if (seen) observed.set(n, seen);
      }),
    );
    const plan = planDeploy({ deployment: s.deployment, version, roles: s.loaded.roles, observed });
    const deploy = describePlan(plan, { image: cfg.image, bootLimit: cfg.boot.limit, action: 'then deploy' });
    return describeSetupPlan({ image: imageRef(s, version), engines: probed.map((p) => p.finding), accessories, deploy });
  } finally {
    await set.close();
  }
}
