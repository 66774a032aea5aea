// gangway's public API: `import { ... } from 'gangway'`. Small on purpose; everything else under
// src/ is internal and may change in any release. The container-testing library is 'gangway/testing'.

/** Run the command line as a function: `await main(['node', 'gangway', 'deploy'])` resolves to the exit code. */
export { main } from './cli/main.js';
/** Read gangway.yml (plus a destination's overlay and .gangway/secrets), validated and resolved. */
export { loadConfig, type LoadOptions, type LoadedConfig } from './config/load.js';
export type { Config, ConfigInput } from './config/schema.js';
/** Every failure gangway reports is a GangwayError; its code decides the exit code. */
export { GangwayError, exitCodeFor, type ErrorCode, type ErrorDetails } from './errors.js';
