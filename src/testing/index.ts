// gangway/testing: containers, volumes and networks for tests, defined before they exist,
// started with their dependencies, waited on by events, and always cleaned up.
export { container, volume, network, type ContainerDefinition, type VolumeDefinition, type NetworkDefinition, type Definition, type ContainerOptions, type VolumeOptions, type NetworkOptions, type ImageSource, type Mount, type PortSpec, type HealthcheckOptions } from './definitions.js';
export { Environment, setup, type SetupOptions, type TeardownReport } from './environment.js';
export type { Events } from './events.js';
export type { StartedContainer } from './definitions.js';
export type { HttpClient } from './http-client.js';
export type { ExecOptions } from './exec.js';
export { wait } from './waits/wait.js';
export type { WaitStrategy, WaitTarget, ContainerEvent, ExecOutput } from './waits/wait-strategy.js';
export type { LogWaitOptions } from './waits/log-wait.js';
export type { HttpWaitOptions } from './waits/http-wait.js';
export type { HealthWaitOptions } from './waits/health-wait.js';
export type { PortWaitOptions } from './waits/port-wait.js';
export { sweepStale, removeRun, type SweepReport } from './cleanup.js';
export { cachedImageTag, IMAGE_REPOSITORY_PREFIX } from './image.js';
export { RUN_LABEL, TESTING_LABEL, PID_LABEL } from './labels.js';
export { vitestFixtures, type VitestFixtureOptions, type VitestFixtureTypes } from './fixtures/vitest.js';
export { useContainers, type NodeTestOptions } from './fixtures/node-test.js';
