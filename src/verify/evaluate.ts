// Judges one check from the facts its probe printed. Pure: the same facts give the same result.
import { resourceKind } from '../checks/registry.js';
import type { CheckResult, Expectation, Facts, PlannedCheck } from '../checks/types.js';
import { messageOf } from '../errors.js';

const titleOf = (c: Pick<PlannedCheck, 'type' | 'subject' | 'title'>): string => c.title ?? `${c.type} ${c.subject}`;

/** "mode: expected 0644, got 0600" */
export function describeExpectation(e: Expectation): string {
  return `${e.attribute}: expected ${e.expected}, got ${e.observed}`;
}

/** What every result says about where its check came from. */
function resultBase(host: string, check: PlannedCheck): Pick<CheckResult, 'host' | 'role' | 'origin' | 'type' | 'subject' | 'title'> {
  return {
    host,
    ...(check.role !== undefined ? { role: check.role } : {}),
    origin: check.origin,
    type: check.type,
    subject: check.subject,
    title: titleOf(check),
  };
}

export function resultFrom(host: string, check: PlannedCheck, expectations: Expectation[]): CheckResult {
  const failed = expectations.find((e) => !e.ok);
  return { ...resultBase(host, check), status: failed ? 'fail' : 'pass', expectations, ...(failed ? { message: describeExpectation(failed) } : {}) };
}

export function errorResult(host: string, check: PlannedCheck, message: string): CheckResult {
  return { ...resultBase(host, check), status: 'error', expectations: [], message };
}

export function evaluateCheck(host: string, check: PlannedCheck, facts: Facts): CheckResult {
  try {
    const { resource } = resourceKind(check.type);
    return resultFrom(host, check, (resource.evaluate as (s: Record<string, unknown>, f: Facts) => Expectation[])(check.spec, facts));
  } catch (err) {
    return errorResult(host, check, `cannot judge the probe's facts: ${messageOf(err)}`);
  }
}
