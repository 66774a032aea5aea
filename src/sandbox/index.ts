// The sandbox façade: what the CLI, the integration tests and `gangway rehearse` use.
export { sandboxUp, sandboxDown, sandboxStatus, readSandboxInfo, flavourOf, pushToSandboxRegistry } from './sandbox.js';
// ensureBusyboxImage and ensureHaproxyImage: scripts/demo-images.mjs (the main job) imports them from dist.
export { buildHello, ensureAcmeImage, ensureBusyboxImage, ensureHaproxyImage, ensurePebbleImage } from './images.js';
export type { BuiltImage } from './images.js';
export type { HelloVariant } from './images/hello.js';
export { DEFAULT_SANDBOX_ID } from './containers.js';
export { SANDBOX_FILES } from './files.js';
export { isProxyLine, parseProxyLine, proxyImageOf } from './proxy-lines.js';
export { PROXY_LINES, type ProxyLine, type SandboxInfo } from './types.js';
export { startAcmeCa, stopAcmeCa, setAcmeDnsRecord, acmeCaIssuingRoot, type AcmeCa } from './acme-ca.js';
