// Runs the declared checks: per host ONE exec of one generated script (`sh -s`, script on
// stdin), its output parsed back and judged; hosts in parallel.
import type { Host } from '../hosts/host.js';
import { messageOf } from '../errors.js';
import { buildScript } from '../checks/probes/script.js';
import { parseScriptOutput } from '../checks/probes/parse.js';
import { resourceKind } from '../checks/registry.js';
import { errorResult, evaluateCheck } from './evaluate.js';
import type { CheckResult, PlannedCheck } from '../checks/types.js';

const VERIFY_SCRIPT_COMMAND = 'sh -s';
/** Slack on top of the checks' own timeouts (commands, HTTP) for the whole script. */
const SCRIPT_BASE_TIMEOUT_MS = 30_000;

/** The script a host will run, as text (for --dry-run style inspection and the tests). */
export function hostScript(checks: readonly PlannedCheck[]): string {
  return buildScript(checks, (type) => resourceKind(type).probe);
}

function scriptTimeoutMs(checks: readonly PlannedCheck[]): number {
  return SCRIPT_BASE_TIMEOUT_MS + checks.reduce((sum, c) => sum + (typeof c.spec.timeout === 'number' ? c.spec.timeout : 0), 0);
}

/** Results in check order; a check whose facts are missing or unreadable is an error, not a pass. */
export function judgeOutput(host: string, checks: readonly PlannedCheck[], run: { code: number; stdout: string; stderr: string; signal?: string }): CheckResult[] {
  const parsed = parseScriptOutput(run.stdout);
  const why = run.signal === 'timeout'
    ? 'the verify script timed out before this check'
    : !parsed.complete
      ? `the verify script stopped early (exit ${run.code}${run.stderr.trim() ? `: ${run.stderr.trim().split('\n').slice(-1)[0]}` : ''})`
      : 'its probe printed no readable result';
  return checks.map((c, i) => {
    const facts = parsed.facts.get(i);
    return facts ? evaluateCheck(host, c, facts) : errorResult(host, c, why);
  });
}

export async function runHostChecks(host: Host, checks: readonly PlannedCheck[]): Promise<CheckResult[]> {
  if (checks.length === 0) return [];
  try {
    const run = await host.exec(VERIFY_SCRIPT_COMMAND, { stdin: hostScript(checks), timeoutMs: scriptTimeoutMs(checks) });
    return judgeOutput(host.name, checks, run);
  } catch (err) {
    return checks.map((c) => errorResult(host.name, c, `cannot run the verify script: ${messageOf(err)}`));
  }
}
