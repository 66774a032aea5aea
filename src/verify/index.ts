// The verify façade: what the CLI, and later `rehearse`, use.
export { verifyHosts, summarize, type VerifyOptions, type VerifyReport, type VerifySummary } from './verify.js';
export { verifySchema, checkItemSchema, EMPTY_VERIFY_SPEC, type VerifySpec } from '../checks/spec.js';
export { loadVerifyFile, verifySpecFromConfig, type LoadedVerifySpec } from './load.js';
export { planChecks } from './plan.js';
export { hostScript, runHostChecks, judgeOutput, VERIFY_SCRIPT_COMMAND } from './run.js';
export { judgeInvariants, observeInvariants, type InvariantObservation } from './invariants.js';
export { humanReport, summaryLine } from './reporters/human.js';
export { emitResults } from './reporters/json.js';
export { junitReport } from './reporters/junit.js';
export { tapReport } from './reporters/tap.js';
export { machineReports, type MachineReportFlags, type MachineReports, type ReportRedactor } from './reporters/machine.js';
export { DECLARABLE_TYPES, RESOURCE_KINDS } from '../checks/registry.js';
export type { CheckResult, CheckSpec, CheckStatus, Expectation, PlannedCheck } from '../checks/types.js';
