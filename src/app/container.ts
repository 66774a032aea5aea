// App containers: a pure builder for the Engine API create call, and the few executors the deploy
// needs (start, stop, remove, logs, find). No ports are published: traffic reaches the app only
// through the proxy on the app network, by the container's name.
import type Docker from 'dockerode';
import { isNotFound, statusCodeOf as statusOf } from '../docker/errors.js';
import { combinedLogText } from '../docker/logs.js';
import { configError, operationError, messageOf } from '../errors.js';
import type { Host } from '../hosts/host.js';
import { describeDeployment, type Deployment } from '../state/deployment.js';
import { appContainersOf, appLabels, appLabelFilters, containerName, labelsBelongTo, type AppContainer } from '../state/labels.js';
import { envFilePath, writeEnvFileCommand } from './env-file.js';
import { KEEP_RUNNING, STAY_STOPPED } from '../state/restart-policy.js';
import { createContainer } from '../docker/containers.js';

export interface AppContainerInput {
  deployment: Deployment;
  role: string;
  version: string;
  /** Full reference, e.g. registry:5000/acme/hello:1.2.0. */
  image: string;
  /** Overrides the image CMD (a role's `cmd`). */
  cmd?: string[];
  envClear: Record<string, string>;
  /**
   * Secret values. They go into the create call's JSON body (never argv, never labels) and into
   * the host's 0600 env file; see docs/secrets.md for why and for what `docker inspect` shows.
   */
  envSecret: Record<string, string>;
  network: string;
  appPort: number;
  /** Extra labels (a test's cleanup label); gangway's own labels are added by the builder. */
  labels?: Record<string, string>;
  /** docker -v style mounts (the config's `volumes`). */
  volumes?: string[];
  deployedAt?: Date;
  /** json-file/local max-size per log file. */
  logMaxSize?: string;
}

export interface AppContainerSpec {
  name: string;
  envFilePath: string;
  createOptions: Docker.ContainerCreateOptions;
}

/** Clear and secret env merged; a key in both is a config error (which one would win is a guess). */
export function mergeEnv(envClear: Record<string, string>, envSecret: Record<string, string>): Record<string, string> {
  for (const key of Object.keys(envSecret)) {
    if (key in envClear) throw configError(`env variable ${key} is both clear and secret`, { step: 'env', hint: 'keep it in one of env.clear or env.secret' });
  }
  return { ...envClear, ...envSecret };
}

/** Throws when a label value contains a secret value: labels are readable by anyone on the engine. */
export function assertNoSecretInLabels(labels: Record<string, string>, envSecret: Record<string, string>): void {
  const secrets = Object.entries(envSecret).filter(([, v]) => v.length > 0);
  for (const [key, value] of Object.entries(labels)) {
    for (const [secretKey, secret] of secrets) {
      if (value.includes(secret) || key.includes(secret)) throw configError(`label ${key} would contain the value of secret ${secretKey}`, { step: 'labels' });
    }
  }
}

export function appContainerSpec(input: AppContainerInput): AppContainerSpec {
  const name = containerName(input.deployment, input.role, input.version);
  const env = mergeEnv(input.envClear, input.envSecret);
  const labels = appLabels({ deployment: input.deployment, role: input.role, version: input.version, deployedAt: input.deployedAt, extra: input.labels });
  assertNoSecretInLabels(labels, input.envSecret);
  const createOptions: Docker.ContainerCreateOptions = {
    name,
    Image: input.image,
    ...(input.cmd ? { Cmd: input.cmd } : {}),
    Env: Object.keys(env).sort().map((k) => `${k}=${env[k]}`),
    Labels: labels,
    // Documents the port; nothing is published on the host.
    ExposedPorts: { [`${input.appPort}/tcp`]: {} },
    HostConfig: {
      NetworkMode: input.network,
      ...(input.volumes && input.volumes.length > 0 ? { Binds: [...input.volumes] } : {}),
      RestartPolicy: { ...KEEP_RUNNING },
      LogConfig: { Type: '', Config: { 'max-size': input.logMaxSize ?? '10m' } },
    },
    NetworkingConfig: { EndpointsConfig: { [input.network]: { Aliases: [name] } } },
  };
  return { name, envFilePath: envFilePath(input.deployment, input.role), createOptions };
}


export async function writeEnvFile(host: Host, path: string, env: Record<string, string>): Promise<void> {
  const cmd = writeEnvFileCommand(path, env);
  const result = await host.exec(cmd.command, { stdin: cmd.stdin, timeoutMs: 30_000 });
  // stderr of mkdir/chmod/mv names paths only; the values were on stdin.
  if (result.code !== 0) throw operationError(`could not write the env file ${path}: ${result.stderr.trim()}`, { host: host.name, step: 'env file' });
}

/** Writes the env file, creates and starts the container; returns its id. */
export async function startAppContainer(host: Host, input: AppContainerInput): Promise<{ id: string; name: string }> {
  await writeAppEnvFile(host, input);
  return createAndStart(host, input);
}

/** The role's env file on the host (0600), as the container about to be created gets it. */
export async function writeAppEnvFile(host: Host, input: AppContainerInput): Promise<void> {
  await writeEnvFile(host, envFilePath(input.deployment, input.role), mergeEnv(input.envClear, input.envSecret));
}

/** Creates and starts the container (its env file written already); returns its id. */
export async function createAndStart(host: Host, input: AppContainerInput): Promise<{ id: string; name: string }> {
  const spec = appContainerSpec(input);
  const docker = await host.docker();
  let container: Docker.Container;
  try {
    container = await createContainer(docker, spec.createOptions);
  } catch (err) {
    const hint = statusOf(err) === 409 ? `a container named ${spec.name} exists already; remove it or deploy another version` : statusOf(err) === 404 ? `is ${input.image} pulled on ${host.name}?` : undefined;
    throw operationError(`could not create ${spec.name}: ${messageOf(err)}`, { host: host.name, role: input.role, step: 'start', hint, cause: err });
  }
  try {
    await container.start();
  } catch (err) {
    throw operationError(`could not start ${spec.name}: ${messageOf(err)}`, { host: host.name, role: input.role, step: 'start', cause: err });
  }
  return { id: container.id, name: spec.name };
}

/**
 * Retires a container: restart policy `no` (so no engine restart brings it back, see
 * restart-policy.ts), then SIGTERM, and SIGKILL after gracefulMs. Returns false when there was
 * nothing to stop.
 */
export async function stopContainer(host: Host, nameOrId: string, gracefulMs: number): Promise<boolean> {
  const docker = await host.docker();
  try {
    const container = docker.getContainer(nameOrId);
    await container.update({ RestartPolicy: { ...STAY_STOPPED } });
    // The Engine API takes whole seconds; round up so the app gets at least what was asked.
    await container.stop({ t: Math.max(0, Math.ceil(gracefulMs / 1000)) });
    return true;
  } catch (err) {
    if (statusOf(err) === 304 || statusOf(err) === 404) return false;
    throw operationError(`could not stop ${nameOrId}: ${messageOf(err)}`, { host: host.name, step: 'stop', cause: err });
  }
}

/** Force-removes (kills if running); a container already gone is not an error. */
export async function removeContainer(host: Host, nameOrId: string): Promise<boolean> {
  const docker = await host.docker();
  try {
    await docker.getContainer(nameOrId).remove({ force: true });
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    // 409: removal already in progress (another path cleaning up the same container).
    if (statusOf(err) === 409 && /already in progress/.test(messageOf(err))) return true;
    throw operationError(`could not remove ${nameOrId}: ${messageOf(err)}`, { host: host.name, step: 'remove', cause: err });
  }
}

/**
 * Removes what an interrupted run of this deployment left under `name` (so there is never a
 * second copy). A name is not an identity: production's version `staging-1.0` and staging's
 * `1.0` spell the same name, so a container of that name that is not this deployment's is
 * refused, never removed. Returns false when there was none.
 */
export async function removeLeftoverAppContainer(host: Host, name: string, d: Deployment): Promise<boolean> {
  const docker = await host.docker();
  let labels: Record<string, string>;
  try {
    labels = (await docker.getContainer(name).inspect()).Config.Labels ?? {};
  } catch (err) {
    if (isNotFound(err)) return false;
    throw operationError(`could not inspect ${name}: ${messageOf(err)}`, { host: host.name, step: 'start', cause: err });
  }
  if (!labelsBelongTo(labels, d)) {
    throw operationError(`a container named ${name} exists on ${host.name} and is not an app container of ${describeDeployment(d)}`, { host: host.name, step: 'start', hint: 'rename or remove it, or deploy another version' });
  }
  return removeContainer(host, name);
}

/** The last `lines` lines of a container's stdout+stderr, interleaved in Docker's order. */
export async function containerLogsTail(host: Host, nameOrId: string, lines: number): Promise<string[]> {
  const docker = await host.docker();
  const raw = (await docker.getContainer(nameOrId).logs({ stdout: true, stderr: true, follow: false, tail: lines })) as unknown;
  const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw));
  return lastLines(combinedLogText(buf), lines);
}

/** The last `count` non-empty lines of a text. */
export function lastLines(text: string, count: number): string[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  return count <= 0 ? [] : lines.slice(-count);
}

/**
 * Every app container of a deployment (optionally one role) on a host, running or not; never
 * those of another destination of the same service (see appLabelFilters).
 */
export async function findContainers(host: Host, d: Deployment, role?: string): Promise<AppContainer[]> {
  const docker = await host.docker();
  const list = await docker.listContainers({ all: true, filters: { label: appLabelFilters(d, role) } });
  return appContainersOf(list, d);
}
