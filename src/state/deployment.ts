// Whose state a piece of host state is: a service, or one destination of it (`gangway -d staging`
// merges gangway.staging.yml over gangway.yml). Production and staging of one service may share
// hosts, so everything gangway keeps on a host (containers, labels, lock, audit log, env files)
// is keyed by this value, never by the service alone.

export interface Deployment {
  readonly service: string;
  /** Absent for a deploy without `-d`: today's state, keyed exactly as before destinations. */
  readonly destination?: string;
}

/**
 * Joins service and destination in keys. Service names allow [a-z0-9._-] and destinations
 * [A-Za-z0-9_-], so `@` can be in neither: `hello@staging` cannot be read as another pair, and
 * no key of a destination equals a key without one. It is also a plain word for the shell.
 */
export const DESTINATION_SEPARATOR = '@';

/** What the loaded config says; structural, so this module needs nothing of src/config. */
export interface DeploymentSource {
  config: { service: string };
  destination?: string;
}

/** The one place a command turns its loaded config into a Deployment. */
export function deploymentOf(loaded: DeploymentSource): Deployment {
  return loaded.destination ? { service: loaded.config.service, destination: loaded.destination } : { service: loaded.config.service };
}

/**
 * The name of the deployment's files, directories and lock on a host: `service` without a
 * destination (so hosts deployed before destinations existed keep their state, no migration),
 * `service@destination` with one.
 */
export function deploymentKey(d: Deployment): string {
  return d.destination ? `${d.service}${DESTINATION_SEPARATOR}${d.destination}` : d.service;
}

/** For messages: `hello`, or `hello (destination staging)`. */
export function describeDeployment(d: Deployment): string {
  return d.destination ? `${d.service} (destination ${d.destination})` : d.service;
}

/** Same deployment? An empty destination is no destination (a label set to '' reads as absent). */
export function sameDeployment(a: Deployment, b: Deployment): boolean {
  return a.service === b.service && (a.destination || undefined) === (b.destination || undefined);
}
