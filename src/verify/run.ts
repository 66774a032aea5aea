// Runs the declared checks: per host ONE exec of one generated script (`sh -s`, script on
// stdin), its output parsed back and judged; hosts in parallel.
import type { Host } from '../hosts/host.js';
import { messageOf } from '../errors.js';
import { buildScript } from '../checks/probes/script.js';
import { parseScriptOutput } from '../checks/probes/parse.js';
import { resourceKind, scriptProbe } from '../checks/registry.js';
import type { CertificateSpec } from '../checks/resources/certificate.js';
import { observeCertificate, trustedRoots } from './certificate-probe.js';
import { errorResult, evaluateCheck } from './evaluate.js';
import type { CheckResult, Facts, PlannedCheck } from '../checks/types.js';

const VERIFY_SCRIPT_COMMAND = 'sh -s';
/** Slack on top of the checks' own timeouts (commands, HTTP) for the whole script. */
const SCRIPT_BASE_TIMEOUT_MS = 30_000;

/** The script a host will run, as text (for --dry-run style inspection and the tests). */
export function hostScript(checks: readonly PlannedCheck[]): string {
  return buildScript(checks, scriptProbe);
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

/** Checks gangway observes itself over the host's connection, by type (no probe in the script). */
const RUNNER_PROBES: Record<string, (host: Host, spec: Record<string, unknown>) => Promise<Facts>> = {
  async certificate(host, spec) {
    const s = spec as CertificateSpec;
    return { ...(await observeCertificate(host, s, await trustedRoots(s.ca_file))) };
  },
};

async function runRunnerCheck(host: Host, check: PlannedCheck): Promise<CheckResult> {
  const observe = RUNNER_PROBES[check.type];
  if (!observe) return errorResult(host.name, check, `no way to observe a ${check.type} check`);
  try {
    return evaluateCheck(host.name, check, await observe(host, check.spec));
  } catch (err) {
    return errorResult(host.name, check, messageOf(err));
  }
}

/**
 * Results in declaration order: the script's checks in one exec, the runner's (certificates) each
 * over its own forwarded stream of the same connection, at the same time.
 */
export async function runHostChecks(host: Host, checks: readonly PlannedCheck[]): Promise<CheckResult[]> {
  const inScript = checks.filter((c) => resourceKind(c.type).probe);
  const [scripted, observed] = await Promise.all([
    runScriptChecks(host, inScript),
    Promise.all(checks.filter((c) => !resourceKind(c.type).probe).map((c) => runRunnerCheck(host, c))),
  ]);
  const fromScript = scripted[Symbol.iterator]();
  const fromRunner = observed[Symbol.iterator]();
  return checks.map((c) => (resourceKind(c.type).probe ? fromScript : fromRunner).next().value as CheckResult);
}

async function runScriptChecks(host: Host, checks: readonly PlannedCheck[]): Promise<CheckResult[]> {
  if (checks.length === 0) return [];
  try {
    const run = await host.exec(VERIFY_SCRIPT_COMMAND, { stdin: hostScript(checks), timeoutMs: scriptTimeoutMs(checks) });
    return judgeOutput(host.name, checks, run);
  } catch (err) {
    return checks.map((c) => errorResult(host.name, c, `cannot run the verify script: ${messageOf(err)}`));
  }
}
