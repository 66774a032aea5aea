// Which checks run on which host: a role's checks on every host of the role, a host's own
// checks, and the built-in script checks on every host. Pure.
import type { ResolvedRole } from '../config/resolve.js';
import type { VerifySpec } from '../checks/spec.js';
import { BUILT_IN_ORIGIN, type PlannedCheck } from '../checks/types.js';
import { ENV_DIR } from '../app/env-file.js';

/** Built-in checks that travel in the host's script (the others read Docker and the proxy). */
function builtInScriptChecks(): PlannedCheck[] {
  return [{ type: 'env-files', subject: ENV_DIR, spec: { 'env-files': ENV_DIR }, title: `secret env files in ${ENV_DIR} are 0600`, origin: BUILT_IN_ORIGIN }];
}

/** Checks by host, hosts in the order given (config order). */
export function planChecks(spec: VerifySpec, roles: ResolvedRole[], hosts: string[], builtIns = true): Map<string, PlannedCheck[]> {
  const plan = new Map<string, PlannedCheck[]>(hosts.map((h) => [h, []]));
  for (const role of roles) {
    const checks = spec.roles[role.name] ?? [];
    for (const host of role.hosts) {
      const list = plan.get(host);
      if (!list) continue;
      checks.forEach((c, i) => list.push({ ...c, origin: `roles.${role.name}[${i}]`, role: role.name }));
    }
  }
  for (const [host, checks] of Object.entries(spec.hosts)) {
    const list = plan.get(host);
    if (!list) continue;
    checks.forEach((c, i) => list.push({ ...c, origin: `hosts.${host}[${i}]` }));
  }
  if (builtIns) for (const list of plan.values()) list.push(...builtInScriptChecks());
  return plan;
}
