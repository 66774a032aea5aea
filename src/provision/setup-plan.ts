// `gangway setup --dry-run` as data: what each host would get (Docker steps, accessories) and the
// deploy that follows, from read-only probes. Pure; the executor is planSetup in setup.ts.
import type { ProvisionPlan } from '../fleet/engine-install-plan.js';

/** A host's engine as the probe found it: the local one (never provisioned), or a plan for a remote one. */
export type EngineFinding = { host: string; local: true } | { host: string; local: false; plan: ProvisionPlan };

/** What setup's boot of one accessory would do, from the container found (or not) on its host. */
export type AccessoryFinding = {
  name: string;
  host: string;
  container: string;
  /** running: left alone; stopped: started; missing: created; unknown: no engine to ask yet (created). */
  state: 'running' | 'stopped' | 'missing' | 'unknown';
};

export interface SetupPlanInput {
  image: string;
  engines: EngineFinding[];
  accessories: AccessoryFinding[];
  /** The deploy plan's own lines (describePlan). */
  deploy: string[];
}

export interface SetupPlan {
  lines: string[];
  /** Hosts where setup would stop, and why: the dry run fails as the real one would. */
  refused: Array<{ host: string; reason: string; hint: string }>;
}

function engineLine(e: EngineFinding): string {
  if (e.local) return `[${e.host}] docker: the local engine (gangway installs nothing on the machine it runs on)`;
  switch (e.plan.kind) {
    case 'ready':
      return `[${e.host}] docker: ready`;
    case 'steps':
      return `[${e.host}] docker: ${e.plan.steps.join(' -> ')} (${e.plan.privilege === 'root' ? 'as root' : 'with sudo'})`;
    case 'refused':
      return `[${e.host}] docker: setup would stop: ${e.plan.reason}`;
  }
}

const ACCESSORY_ACTION: Record<AccessoryFinding['state'], string> = {
  running: 'runs; left as it is',
  stopped: 'stopped; start it',
  missing: 'create and start',
  unknown: 'create and start (once Docker answers)',
};

export function describeSetupPlan(input: SetupPlanInput): SetupPlan {
  const lines = [`setup ${input.image}`, ...input.engines.map(engineLine)];
  for (const a of input.accessories) lines.push(`[${a.host}] accessory ${a.name}: ${a.container} ${ACCESSORY_ACTION[a.state]}`);
  lines.push(...input.deploy);
  const refused = input.engines.flatMap((e) => (!e.local && e.plan.kind === 'refused' ? [{ host: e.host, reason: e.plan.reason, hint: e.plan.hint }] : []));
  return { lines, refused };
}
