// Definitions describe containers, volumes and networks before anything exists in Docker.
// They are frozen values: `def.with({...})` returns a new definition, nothing is mutated.
import type { ContainerCreateOptions, ContainerInspectInfo } from 'dockerode';
import { configError } from '../errors.js';
import type { ExecOptions } from './exec.js';
import type { HttpClient } from './http-client.js';
import type { LogStreamName } from './log-buffer.js';
import type { ExecOutput, WaitStrategy } from './waits/wait-strategy.js';

/** Where a container's image comes from. A plain string is an existing tag. */
export type ImageSource =
  | string
  | {
      tag: string;
      /** Pull only when the image is missing locally and this is 'if-missing'. Default: never. */
      pull?: 'never' | 'if-missing';
    }
  | {
      /** Directory holding the Dockerfile and everything it copies. */
      build: string;
      dockerfile?: string;
      buildArgs?: Readonly<Record<string, string>>;
      /** Image repository name part: gangway-testing/<name>:<hash>. Default: the definition name. */
      name?: string;
    };

export type PortSpec = number | `${number}/tcp` | `${number}/udp`;

export type Mount =
  | { volume: VolumeDefinition; target: string; readOnly?: boolean }
  | { bind: string; target: string; readOnly?: boolean };

export interface HealthcheckOptions {
  /** As in Docker: ['CMD', ...] or ['CMD-SHELL', '...']. */
  test: readonly string[];
  intervalMs?: number;
  timeoutMs?: number;
  retries?: number;
  startPeriodMs?: number;
}

export interface ContainerOptions {
  image: ImageSource;
  cmd?: readonly string[];
  entrypoint?: readonly string[];
  env?: Readonly<Record<string, string>>;
  user?: string;
  workingDir?: string;
  /** Container ports to publish, each on a random port of 127.0.0.1. */
  ports?: readonly PortSpec[];
  mounts?: readonly Mount[];
  /** Networks to join; on each the container is reachable under its definition name. */
  networks?: readonly NetworkDefinition[];
  /** Resources that must be ready first (volumes and networks used above are implied). */
  dependsOn?: readonly Definition[];
  /** When the container counts as ready. Default: as soon as it is started. */
  wait?: WaitStrategy;
  healthcheck?: HealthcheckOptions;
  labels?: Readonly<Record<string, string>>;
  /** Stop gracefully (SIGTERM, then SIGKILL after this long) at teardown. Default: kill at once. */
  stopTimeoutMs?: number;
  /** Resets the container between tests that share it (fixtures with scope 'file'). */
  clean?: (container: StartedContainer) => Promise<void>;
  /** Raw Engine API fields merged over what gangway builds, for anything not modelled above. */
  createOptions?: Partial<ContainerCreateOptions>;
}

export interface VolumeOptions {
  driver?: string;
  driverOpts?: Readonly<Record<string, string>>;
  labels?: Readonly<Record<string, string>>;
  dependsOn?: readonly Definition[];
}

export interface NetworkOptions {
  driver?: string;
  internal?: boolean;
  labels?: Readonly<Record<string, string>>;
  dependsOn?: readonly Definition[];
}

interface DefinitionBase<K extends string, O> {
  readonly kind: K;
  readonly name: string;
  readonly options: Readonly<O>;
}

export interface ContainerDefinition extends DefinitionBase<'container', ContainerOptions> {
  /** A new definition with these options replaced (shallow): the original is unchanged. */
  with(patch: Partial<ContainerOptions> & { name?: string }): ContainerDefinition;
}
export interface VolumeDefinition extends DefinitionBase<'volume', VolumeOptions> {
  with(patch: Partial<VolumeOptions> & { name?: string }): VolumeDefinition;
}
export interface NetworkDefinition extends DefinitionBase<'network', NetworkOptions> {
  with(patch: Partial<NetworkOptions> & { name?: string }): NetworkDefinition;
}

export type Definition = ContainerDefinition | VolumeDefinition | NetworkDefinition;

// Docker names allow more, but the definition name is also a DNS alias and a tag part.
const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

function checkName(kind: string, name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw configError(`${kind} definition name "${name}" is not valid`, {
      step: 'testing.define',
      hint: 'use lowercase letters, digits, "-" and "_" (it becomes a DNS alias), at most 63 characters',
    });
  }
}

function freezeOptions<O extends object>(options: O): Readonly<O> {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    // Arrays and plain records are copied so a caller mutating its own object later changes nothing.
    if (Array.isArray(v)) copy[k] = Object.freeze([...v]);
    else if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) copy[k] = Object.freeze({ ...v });
    else copy[k] = v;
  }
  return Object.freeze(copy) as Readonly<O>;
}

export function container(name: string, options: ContainerOptions): ContainerDefinition {
  checkName('container', name);
  if (options.image === undefined) throw configError(`container definition "${name}" has no image`, { step: 'testing.define' });
  const frozen = freezeOptions(options);
  return Object.freeze({
    kind: 'container' as const,
    name,
    options: frozen,
    with: ({ name: newName, ...patch }: Partial<ContainerOptions> & { name?: string }) => container(newName ?? name, { ...frozen, ...patch }),
  });
}

export function volume(name: string, options: VolumeOptions = {}): VolumeDefinition {
  checkName('volume', name);
  const frozen = freezeOptions(options);
  return Object.freeze({
    kind: 'volume' as const,
    name,
    options: frozen,
    with: ({ name: newName, ...patch }: Partial<VolumeOptions> & { name?: string }) => volume(newName ?? name, { ...frozen, ...patch }),
  });
}

export function network(name: string, options: NetworkOptions = {}): NetworkDefinition {
  checkName('network', name);
  const frozen = freezeOptions(options);
  return Object.freeze({
    kind: 'network' as const,
    name,
    options: frozen,
    with: ({ name: newName, ...patch }: Partial<NetworkOptions> & { name?: string }) => network(newName ?? name, { ...frozen, ...patch }),
  });
}

/** Everything a definition needs before it can be created: explicit and implied dependencies. */
export function dependenciesOf(def: Definition): Definition[] {
  const deps: Definition[] = [...(def.options.dependsOn ?? [])];
  if (def.kind === 'container') {
    for (const m of def.options.mounts ?? []) if ('volume' in m) deps.push(m.volume);
    deps.push(...(def.options.networks ?? []));
  }
  return deps;
}

// What a started container offers, here beside its definition (which its `clean` hook receives
// it back through), so the two types need no module cycle: started-container.ts implements it.
export interface StartedContainer {
  /** The definition name (also its DNS alias on its networks). */
  readonly name: string;
  readonly id: string;
  /** The Docker container name: gwt-<runId>-<name>. */
  readonly containerName: string;
  readonly definition: ContainerDefinition;
  /** Host port on 127.0.0.1 publishing this container port. */
  hostPort(port: number | string): number;
  /** Host port of the lowest-numbered published container port. */
  firstHostPort(): number;
  /** Client on the first published port; `httpFor(port)` for another one. */
  readonly http: HttpClient;
  httpFor(port: number | string): HttpClient;
  exec(cmd: string | readonly string[], options?: ExecOptions): Promise<ExecOutput>;
  /** The container's log output so far, from the engine. */
  logs(options?: { stream?: LogStreamName | 'both'; tail?: number }): Promise<string>;
  /** Resolves with the first line matching `pattern` (by default among all lines so far). */
  waitForLog(pattern: RegExp, options?: { timeoutMs?: number; onlyNew?: boolean }): Promise<string>;
  inspect(): Promise<ContainerInspectInfo>;
  /** Runs the definition's `clean` hook (a no-op without one). */
  clean(): Promise<void>;
}
