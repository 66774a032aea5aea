// How a deploy ends: the version each (host, role) serves, read back from the hosts, reported; and
// the one error a failed deploy throws.
import { GangwayError } from '../errors.js';
import type { DeployRun } from './context.js';
import { observeHost } from './observe.js';
import { liveVersionOf, type ObservedHost } from './plan.js';
import type { Session } from '../fleet/session.js';

/** Version each (host, role) serves at the end, read back from the hosts. */
export type EndState = Array<{ host: string; role: string; version?: string; unreachable?: boolean }>;

/** What a deploy was asked to do, as its messages name it. */
export interface DeployAsked {
  action: string;
  version: string;
}

export async function endState(run: DeployRun): Promise<EndState> {
  return endStateOf(run, await observeEnd(run));
}

/** Every host's containers and proxy servers now; a host that does not answer is left out. */
export async function observeEnd(run: DeployRun): Promise<Map<string, ObservedHost>> {
  const { s, hosts } = run;
  // Host by host: one host that died must not make the others' state unknown too.
  const observed = new Map<string, ObservedHost>();
  await Promise.all(
    [...hosts.values()].map(async (h) => {
      try {
        observed.set(h.name, await observeHost(h, s.deployment, run.proxies.get(h.name)));
      } catch {
        // Left out: reported as unreachable.
      }
    }),
  );
  return observed;
}

/** Pure: the version each (host, role) serves, from what observeEnd read. */
export function endStateOf(run: DeployRun, observed: Map<string, ObservedHost>): EndState {
  const out: EndState = [];
  for (const role of run.s.loaded.roles) {
    for (const host of role.hosts) {
      const o = observed.get(host);
      const version = o ? liveVersionOf(o, role) : undefined;
      out.push({ host, role: role.name, ...(version !== undefined ? { version } : {}), ...(o ? {} : { unreachable: true }) });
    }
  }
  return out;
}

const endLabel = (e: EndState[number]): string => (e.unreachable ? 'unknown (unreachable)' : e.version ?? '(nothing)');

export function reportEnd(s: Session, end: EndState): void {
  for (const e of end) {
    s.events.result('live-version', { host: e.host, role: e.role, version: e.version ?? null, ...(e.unreachable ? { unreachable: true } : {}) }, { host: e.host, role: e.role });
    s.events.log(e.unreachable ? 'state unknown: the host did not answer' : `now serving ${endLabel(e)}`, { host: e.host, role: e.role, step: 'result', ...(e.unreachable ? { level: 'warn' as const } : {}) });
  }
}

export function interruptedBeforeChanges(opts: DeployAsked): GangwayError {
  return new GangwayError('interrupted', `${opts.action} of ${opts.version} interrupted after the pull, before any host changed`, { step: 'pull' });
}

export function summarise(failures: GangwayError[], end: EndState, opts: DeployAsked): GangwayError {
  // Interrupted first (before any failure): the interrupt is the cause; else the first failure.
  const interrupted = failures[0]?.code === 'interrupted' ? failures[0] : undefined;
  const first = interrupted ?? failures.find((f) => f.code !== 'interrupted')!;
  const versions = [...new Set(end.map(endLabel))];
  const where = versions.length === 1 ? `every host is on ${versions[0]}` : end.map((e) => `${e.host} ${e.role}: ${endLabel(e)}`).join(', ');
  const details = failures.flatMap((f) => [`[${[f.host, f.role, f.step].filter(Boolean).join(' ')}] ${f.message}`, ...f.details.map((d) => `  ${d}`)]);
  if (interrupted && first === interrupted) {
    return new GangwayError('interrupted', `${opts.action} of ${opts.version} interrupted; ${where}`, { step: 'deploy', details });
  }
  return new GangwayError('operation', `${opts.action} of ${opts.version} failed on ${first.host ?? 'a host'}: ${first.message}; ${where}`, {
    ...(first.host ? { host: first.host } : {}),
    ...(first.role ? { role: first.role } : {}),
    step: first.step ?? 'deploy',
    details,
  });
}
