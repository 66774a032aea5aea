// The verify façade: what the CLI, and later `rehearse`, use.
export { verifyHosts, summarize } from './verify.js';
export { loadVerifyFile, verifySpecFromConfig } from './load.js';
export { humanReport, summaryLine } from './reporters/human.js';
export { emitResults } from './reporters/json.js';
export { machineReports } from './reporters/machine.js';
export type { CheckResult } from '../checks/types.js';
