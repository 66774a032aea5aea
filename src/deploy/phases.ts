// The life of one role's new container on one host during a deploy, as explicit phases with
// named transitions. Recovery reads these phases instead of guessing what happened. (Not the
// proxy's server admin state or health, src/proxy/types.ts, nor the host files of src/state.)

export type DeployPhase =
  | 'pending'
  | 'pulled'
  | 'started'
  | 'healthy'
  | 'uptested'
  | 'switched'
  | 'drained'
  | 'stopped-old'
  | 'done'
  | 'failed'
  | 'rolled-back';

const NEXT: Record<DeployPhase, DeployPhase[]> = {
  pending: ['pulled', 'failed', 'rolled-back'],
  pulled: ['started', 'failed', 'rolled-back'],
  started: ['healthy', 'failed', 'rolled-back'],
  healthy: ['uptested', 'failed', 'rolled-back'],
  uptested: ['switched', 'failed', 'rolled-back'],
  switched: ['drained', 'failed', 'rolled-back'],
  drained: ['stopped-old', 'failed', 'rolled-back'],
  'stopped-old': ['done', 'failed'],
  done: [],
  failed: ['rolled-back'],
  'rolled-back': [],
};

/** One (host, role) of a deploy: what is being replaced by what, and how far it got. */
export interface DeployTarget {
  host: string;
  role: string;
  proxied: boolean;
  /** Container name of the version being deployed. */
  newContainer: string;
  /** Containers of other versions that run now (normally one: the live version). */
  oldContainers: string[];
  /** The version serving before the deploy (undefined on a fresh host). */
  liveVersion?: string;
  /** The new version is already live here: nothing to do. */
  alreadyLive: boolean;
  /** The phase it is in now. */
  state: DeployPhase;
  /** Every phase this target went through, for the summary and for recovery. */
  trail: DeployPhase[];
}

export function transition(t: DeployTarget, to: DeployPhase): void {
  if (t.state === to) return;
  if (!NEXT[t.state].includes(to)) throw new Error(`invalid deploy transition ${t.state} -> ${to} for ${t.role} on ${t.host}`);
  t.state = to;
  t.trail.push(to);
}

/** Did this target get far enough that undoing it needs the proxy switched back? */
export const hasSwitched = (t: DeployTarget): boolean => t.trail.includes('switched');
/** Did this target start a new container that must be removed on failure? */
export const hasStarted = (t: DeployTarget): boolean => t.trail.includes('started');
