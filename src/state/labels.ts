// How gangway names and labels app containers, how it reads them back, and which old ones it
// prunes. Labels are the deploy state on a host, so they hold names and versions only: never an
// env value or a secret (`docker ps` shows labels to anyone with access to the engine).
import { sameDeployment, type Deployment } from './deployment.js';

export const LABEL = {
  service: 'gangway.service',
  role: 'gangway.role',
  version: 'gangway.version',
  /** Only on containers of a destination (`-d staging`): absent means no destination. */
  destination: 'gangway.destination',
  managed: 'gangway.managed',
  deployedAt: 'gangway.deployed_at',
} as const;

/** Value of gangway.managed on app containers (the proxy uses another). */
export const MANAGED_APP = 'app';

const CONTAINER_NAME_BAD_CHARS = /[^a-zA-Z0-9_.-]/g;

/**
 * `<service>-<role>-<version>`, or `<service>-<role>-<destination>-<version>` for a destination
 * (the name without one is today's, so hosts deployed before destinations keep their names).
 * Docker names allow [a-zA-Z0-9_.-] only, so other characters of a version (the `+` of semver
 * build metadata) become `_`; the exact version lives in the label. A name is not an identity
 * (service `a-b` role `c` and service `a` role `b-c` spell the same): what a container belongs
 * to is read from its labels only.
 */
export function containerName(d: Deployment, role: string, version: string): string {
  const parts = d.destination ? [d.service, role, d.destination, version] : [d.service, role, version];
  return parts.join('-').replace(CONTAINER_NAME_BAD_CHARS, '_');
}

export interface AppLabelInput {
  deployment: Deployment;
  role: string;
  version: string;
  /** Defaults to now; passed in by tests and by the deploy so every host records the same time. */
  deployedAt?: Date;
  /** Extra labels (e.g. a test's cleanup label). Must not collide with gangway.*. */
  extra?: Record<string, string>;
}

/** The labels that say whose a container is: gangway.service, and gangway.destination when set. */
export function deploymentLabels(d: Deployment): Record<string, string> {
  return { [LABEL.service]: d.service, ...(d.destination ? { [LABEL.destination]: d.destination } : {}) };
}

export function appLabels(input: AppLabelInput): Record<string, string> {
  const extra = input.extra ?? {};
  for (const key of Object.keys(extra)) {
    if ((Object.values(LABEL) as string[]).includes(key)) throw new Error(`label ${key} is reserved for gangway`);
  }
  return {
    ...extra,
    ...deploymentLabels(input.deployment),
    [LABEL.role]: input.role,
    [LABEL.version]: input.version,
    [LABEL.managed]: MANAGED_APP,
    [LABEL.deployedAt]: (input.deployedAt ?? new Date()).toISOString(),
  };
}

/**
 * Filters for listing a deployment's app containers (Engine API `filters.label`). The engine
 * cannot filter on a label being absent, so the list of a deployment without a destination still
 * holds its destinations' containers: every listing goes through appContainersOf.
 */
export function appLabelFilters(d: Deployment, role?: string): string[] {
  const filters = [`${LABEL.service}=${d.service}`, `${LABEL.managed}=${MANAGED_APP}`];
  if (d.destination) filters.push(`${LABEL.destination}=${d.destination}`);
  if (role !== undefined) filters.push(`${LABEL.role}=${role}`);
  return filters;
}

/** Pure: is a container with these labels an app container of this deployment? */
export function labelsBelongTo(labels: Record<string, string>, d: Deployment): boolean {
  const service = labels[LABEL.service];
  const destination = labels[LABEL.destination];
  if (labels[LABEL.managed] !== MANAGED_APP || service === undefined) return false;
  return sameDeployment({ service, ...(destination ? { destination } : {}) }, d);
}

/** The subset of a container listing (GET /containers/json) that gangway reads. */
export interface ContainerSummaryLike {
  Id: string;
  Names?: string[];
  Image?: string;
  ImageID?: string;
  Labels?: Record<string, string>;
  State?: string;
  Created?: number;
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

export interface AppContainer {
  id: string;
  name: string;
  service: string;
  /** From gangway.destination; absent on containers deployed without `-d`. */
  destination?: string;
  role: string;
  version: string;
  /** Docker's state word: created, running, exited, restarting, paused, dead. */
  state: string;
  running: boolean;
  /** When the container was created (Docker's `Created`, seconds precision). */
  createdAt: Date;
  /** From the gangway.deployed_at label; falls back to createdAt. */
  deployedAt: Date;
  image: string;
  imageId: string;
  /** Network name -> the container's IP on it (running containers only). */
  addresses?: Record<string, string>;
}

function addressesOf(s: ContainerSummaryLike): { addresses?: Record<string, string> } {
  const entries = Object.entries(s.NetworkSettings?.Networks ?? {}).filter(([, n]) => n.IPAddress).map(([name, n]) => [name, n.IPAddress!] as const);
  return entries.length > 0 ? { addresses: Object.fromEntries(entries) } : {};
}

/** Containers → what gangway knows about them; containers without gangway labels are skipped. */
export function parseAppContainers(summaries: ContainerSummaryLike[]): AppContainer[] {
  const out: AppContainer[] = [];
  for (const s of summaries) {
    const labels = s.Labels ?? {};
    const service = labels[LABEL.service];
    const role = labels[LABEL.role];
    const version = labels[LABEL.version];
    if (!service || !role || !version || labels[LABEL.managed] !== MANAGED_APP) continue;
    const createdAt = new Date((s.Created ?? 0) * 1000);
    const deployed = labels[LABEL.deployedAt] ? new Date(labels[LABEL.deployedAt]!) : createdAt;
    const state = s.State ?? 'unknown';
    const destination = labels[LABEL.destination];
    out.push({
      id: s.Id,
      name: (s.Names?.[0] ?? s.Id).replace(/^\//, ''),
      service,
      ...(destination ? { destination } : {}),
      role,
      version,
      state,
      running: state === 'running' || state === 'restarting',
      createdAt,
      deployedAt: Number.isNaN(deployed.getTime()) ? createdAt : deployed,
      image: s.Image ?? '',
      imageId: s.ImageID ?? '',
      ...addressesOf(s),
    });
  }
  return out;
}

/** The app containers of one deployment in a listing: production never sees staging's, nor the reverse. */
export function appContainersOf(summaries: ContainerSummaryLike[], d: Deployment): AppContainer[] {
  return parseAppContainers(summaries.filter((s) => labelsBelongTo(s.Labels ?? {}, d)));
}

export interface RetentionPlan {
  /** Stopped containers to keep for rollback, newest first. */
  keepContainers: AppContainer[];
  removeContainers: AppContainer[];
  /** Image ids no longer used by any kept or running container. */
  removeImageIds: string[];
}

/**
 * Keep the `retain` most recently deployed stopped versions (per role), remove older ones and the
 * images only they used. Running containers and the versions in `protectVersions` (the live one
 * and the one being deployed) are never touched and do not count towards `retain`.
 */
export function planRetention(containers: AppContainer[], retain: number, protectVersions: string[] = []): RetentionPlan {
  const protect = new Set(protectVersions);
  const byRole = new Map<string, AppContainer[]>();
  for (const c of containers) {
    if (c.running || protect.has(c.version)) continue;
    const list = byRole.get(c.role) ?? [];
    list.push(c);
    byRole.set(c.role, list);
  }
  const keepContainers: AppContainer[] = [];
  const removeContainers: AppContainer[] = [];
  for (const list of byRole.values()) {
    list.sort((a, b) => b.deployedAt.getTime() - a.deployedAt.getTime() || b.createdAt.getTime() - a.createdAt.getTime() || a.name.localeCompare(b.name));
    keepContainers.push(...list.slice(0, Math.max(0, retain)));
    removeContainers.push(...list.slice(Math.max(0, retain)));
  }
  const removed = new Set(removeContainers.map((c) => c.id));
  const stillUsed = new Set(containers.filter((c) => !removed.has(c.id)).map((c) => c.imageId));
  const removeImageIds = [...new Set(removeContainers.map((c) => c.imageId))].filter((id) => id && !stillUsed.has(id)).sort();
  return { keepContainers, removeContainers, removeImageIds };
}
