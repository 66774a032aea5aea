// The config module's public surface.
export { loadConfig, destinationFile, secretsFileFor, type LoadOptions, type LoadedConfig } from './load.js';
export { resolveConfig, resolveRoles, resolveHostTargets, expandPath, primaryRoleName, LOCAL_HOST, type ResolvedRole, type HostTarget } from './resolve.js';
export { redactConfig, REDACTED } from './redact.js';
export { configSchema, parseDurationMs, duration, bootLimit, type Config, type ConfigInput, type RoleConfig, type HostConfig } from './schema.js';
export { formatPath, formatProblem, type Problem } from './problems.js';
