// The sandbox façade: what the CLI, the integration tests and `gangway rehearse` use.
export { sandboxUp, sandboxDown, sandboxStatus, readSandboxInfo, flavourOf } from './sandbox.js';
export type { SandboxUpOptions, SandboxUpResult, SandboxDownResult, SandboxStatus, SandboxStatusRow } from './sandbox.js';
export { buildHello, ensureBusyboxImage, ensureHaproxyImage, ensureRegistryImage, ensureDockerHostImage, ensureHostImage, ensureSandboxImages, SANDBOX_HELLO_VERSION } from './images.js';
export type { BuildHelloOptions, BuiltImage, SandboxImages } from './images.js';
export type { HelloVariant } from './images/hello.js';
export { HELLO_VARIANTS } from './images/hello.js';
export { DEFAULT_SANDBOX_ID, sandboxNames } from './containers.js';
export { SANDBOX_FILES } from './files.js';
export { SANDBOX_REGISTRY_NAME } from './images/host.js';
export type { HostFlavour } from './images/host.js';
export { HAPROXY_CONFIG_PATH } from './images/haproxy.js';
export { SANDBOX_LABEL } from './types.js';
export type { SandboxHost, SandboxInfo } from './types.js';
