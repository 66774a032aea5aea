// The proxy module's façade: what deploy, status and verify import.
export * from './types.js';
export * from './paths.js';
export { renderHaproxyConfig, parseRenderedServers, needsReload } from './render.js';
export { explainingLines } from './log-excerpt.js';
export * as runtimeCommands from './runtime-commands.js';
export type { RuntimeCommand } from './runtime-commands.js';
export { parseServersState, parseStat, liveServers, isHealthy, describeCheck } from './runtime-parse.js';
export { RuntimeApi } from './runtime-api.js';
export { proxyContainerSpec, type ProxyContainerOptions } from './container.js';
export { parseProxyIdentity, proxyIdentityCommand, type ProxyIdentity } from './identity.js';
export {
  addCandidate, configInSync, containerAddress, DEFAULT_APP_NETWORK, ensureProxy, holdChecks, proxyStateOf, proxyTargetFromConfig,
  readConfigFile, readProxyIdentity, readState, reconcileAddresses, removeProxy, removeServer, runtimeApi, switchTo, syncConfig, waitDrained, waitHealthy,
  type CandidateServer, type DrainResult, type EnsureProxyOptions, type EnsureProxyResult, type ProxyTarget,
} from './operations.js';
