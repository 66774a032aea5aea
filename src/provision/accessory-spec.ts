// Accessories as data: the name, labels, host directories and the exact Engine API create call
// of a database or cache the app needs. A deploy never touches them: they carry
// gangway.managed=accessory, which the app's label filters exclude.
import type Docker from 'dockerode';
import { assertNoSecretInLabels, mergeEnv } from '../app/container.js';
import { ENV_DIR } from '../app/env-file.js';
import type { AccessoryConfig, Config } from '../config/schema.js';
import { configError } from '../errors.js';
import { contentHash } from '../content-hash.js';
import { GANGWAY_STATE_DIR, shellQuote, type ShellCommand } from '../state/shell.js';
import { KEEP_RUNNING } from '../state/restart-policy.js';

export const MANAGED_ACCESSORY = 'accessory';
export const ACCESSORY_LABEL = {
  managed: 'gangway.managed',
  service: 'gangway.service',
  accessory: 'gangway.accessory',
  /** Hash of what the container was created from, so setup can tell a changed config. */
  spec: 'gangway.accessory.spec',
} as const;

/** Relative `directories:` sources land under here, one folder per accessory. */
export const ACCESSORY_DIR = `${GANGWAY_STATE_DIR}/accessories`;

export const accessoryContainerName = (service: string, name: string): string => `${service}-${name}`;
export const accessoryDir = (service: string, name: string): string => `${ACCESSORY_DIR}/${accessoryContainerName(service, name)}`;
export const accessoryEnvFilePath = (service: string, name: string): string => `${ENV_DIR}/${service}-accessory-${name}.env`;

/** The hosts an accessory runs on, in config order. */
export const accessoryHosts = (a: Pick<AccessoryConfig, 'host' | 'hosts'>): string[] => (a.hosts ? [...a.hosts] : a.host ? [a.host] : []);

/** Every host any accessory runs on. */
export function allAccessoryHosts(config: Pick<Config, 'accessories'>): string[] {
  return [...new Set(Object.values(config.accessories).flatMap(accessoryHosts))];
}

/** Engine list filter: every accessory of the service, or one of them. */
export function accessoryLabelFilters(service: string, name?: string): string[] {
  return [`${ACCESSORY_LABEL.managed}=${MANAGED_ACCESSORY}`, `${ACCESSORY_LABEL.service}=${service}`, ...(name ? [`${ACCESSORY_LABEL.accessory}=${name}`] : [])];
}

interface Mount {
  source: string;
  target: string;
  mode?: string;
}

function parseMount(text: string): Mount {
  const [source, target, mode] = text.split(':') as [string, string, string | undefined];
  return { source, target, ...(mode ? { mode } : {}) };
}

const bind = (m: Mount): string => `${m.source}:${m.target}${m.mode ? `:${m.mode}` : ''}`;

/** `directories:` with relative sources placed under the accessory's own folder on the host. */
export function resolveDirectories(service: string, name: string, directories: string[]): Mount[] {
  return directories.map((d) => {
    const m = parseMount(d);
    if (m.source.split('/').includes('..')) throw configError(`accessories.${name}.directories: ${d} leaves the accessory's folder`, { step: 'accessory' });
    return m.source.startsWith('/') ? m : { ...m, source: `${accessoryDir(service, name)}/${m.source.replace(/^\.\//, '')}` };
  });
}

/** Creates the host directories before the container mounts them (Docker would make them root-owned and empty anyway, but only for binds it knows). */
export function directoriesCommand(service: string, name: string, directories: string[]): ShellCommand | undefined {
  const dirs = resolveDirectories(service, name, directories).map((m) => m.source);
  if (dirs.length === 0) return undefined;
  return { command: `mkdir -p ${dirs.map(shellQuote).join(' ')}` };
}

export interface AccessoryInput {
  service: string;
  name: string;
  accessory: AccessoryConfig;
  /** Secret values by name (only the names in accessory.env.secret are used). */
  secrets: Record<string, string>;
  network: string;
}

export interface AccessorySpec {
  name: string;
  containerName: string;
  image: string;
  specHash: string;
  envFilePath: string;
  env: Record<string, string>;
  directories: ShellCommand | undefined;
  createOptions: Docker.ContainerCreateOptions;
}

export function accessorySecretEnv(name: string, accessory: AccessoryConfig, secrets: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of accessory.env.secret) {
    const value = secrets[key];
    if (value === undefined || value === '') {
      throw configError(`secret ${key} of accessory ${name} is not set in the environment or .gangway/secrets`, { step: 'accessory', hint: `set ${key} in the environment or in .gangway/secrets` });
    }
    env[key] = value;
  }
  return env;
}

export function accessorySpec(input: AccessoryInput): AccessorySpec {
  const { service, name, accessory: a, network } = input;
  const containerName = accessoryContainerName(service, name);
  for (const key of Object.keys(a.labels)) {
    if (key.startsWith('gangway.')) throw configError(`accessories.${name}.labels: ${key} is reserved for gangway`, { step: 'accessory' });
  }
  const envSecret = accessorySecretEnv(name, a, input.secrets);
  const env = mergeEnv(a.env.clear, envSecret);
  const binds = [...a.volumes.map((v) => bind(parseMount(v))), ...resolveDirectories(service, name, a.directories).map(bind)];
  const portKey = a.port ? `${a.port.containerPort}/${a.port.proto}` : undefined;
  // Secret values stay out of the hash: it sits in a label anyone on the engine can read.
  const specHash = contentHash({ image: a.image, cmd: a.cmd, clear: a.env.clear, secretNames: [...a.env.secret].sort(), binds, port: a.port, labels: a.labels, network });
  const labels: Record<string, string> = {
    ...a.labels,
    [ACCESSORY_LABEL.managed]: MANAGED_ACCESSORY,
    [ACCESSORY_LABEL.service]: service,
    [ACCESSORY_LABEL.accessory]: name,
    [ACCESSORY_LABEL.spec]: specHash,
  };
  assertNoSecretInLabels(labels, envSecret);
  const createOptions: Docker.ContainerCreateOptions = {
    name: containerName,
    Image: a.image,
    ...(a.cmd ? { Cmd: [...a.cmd] } : {}),
    Env: Object.keys(env).sort().map((k) => `${k}=${env[k]}`),
    Labels: labels,
    ...(portKey ? { ExposedPorts: { [portKey]: {} } } : {}),
    HostConfig: {
      NetworkMode: network,
      RestartPolicy: { ...KEEP_RUNNING },
      Binds: binds,
      ...(a.port && portKey ? { PortBindings: { [portKey]: [{ HostIp: a.port.hostIp, HostPort: String(a.port.hostPort) }] } } : {}),
      LogConfig: { Type: '', Config: { 'max-size': '10m' } },
    },
    // The accessory's own name is how the app finds it: db:5432, not hello-db:5432.
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [name] } } },
  };
  return {
    name,
    containerName,
    image: a.image,
    specHash,
    envFilePath: accessoryEnvFilePath(service, name),
    env,
    directories: directoriesCommand(service, name, a.directories),
    createOptions,
  };
}
