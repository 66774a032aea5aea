// The proxy module's façade: what deploy, status and verify import.
export * from './types.js';
export * from './paths.js';
export { renderHaproxyConfig, parseRenderedServers, needsReload } from './render.js';
export { explainingLines } from './log-excerpt.js';
export * as runtimeCommands from './runtime-commands.js';
export type { RuntimeCommand } from './runtime-commands.js';
export { parseServersState, parseStat, parseShowInfo, liveServers, isHealthy, describeCheck, type ProxyVersion } from './runtime-parse.js';
export { RuntimeApi } from './runtime-api.js';
export { proxyContainerSpec, type ProxyContainerOptions } from './container.js';
export { parseProxyIdentity, proxyIdentityCommand, type ProxyIdentity } from './identity.js';
export { DEFAULT_APP_NETWORK, runtimeApi, type ProxyTarget } from './target.js';
export { readProxyVersion, readServers } from './live-servers.js';
export { configInSync, proxyBackendOf, readConfigFile, syncConfig } from './file-sync.js';
export { containerAddress, reconcileAddresses } from './addresses.js';
export { ensureProxy, readProxyIdentity, removeProxy, type EnsureProxyOptions, type EnsureProxyResult } from './lifecycle.js';
export { addCandidate, holdChecks, removeServer, switchTo, type CandidateServer } from './runtime-operations.js';
export { waitDrained, waitHealthy, type DrainResult } from './waits.js';
