// The part of gangway.yml that build and release need (image, registry, build), read through the
// shared config loader (a missing file is no error when the command can do without one).
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { configError } from '../errors.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { expandPath } from '../config/resolve.js';
import type { SecretSink } from '../config/secret-values.js';

export interface BuildSettings {
  /** Absolute path of the build context. */
  context: string;
  /** Absolute path of the Dockerfile. */
  dockerfile: string;
  args: Record<string, string>;
  target?: string;
}

export interface RegistrySettings {
  server: string;
  username?: string;
  password?: string;
}

export interface ReleaseSettings {
  /** The config's service (build hooks see it as GANGWAY_SERVICE). */
  service?: string;
  /** Undefined when there is no config file (release --image works without one). */
  image?: string;
  registry?: RegistrySettings;
  build: BuildSettings;
  /** Folder of the config file: relative paths in it are relative to this. */
  baseDir: string;
  configFound: boolean;
}

export interface LoadOptions {
  file: string;
  destination?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** When false, a missing config file gives empty settings instead of an error. */
  required: boolean;
  /** Gets the config's secret values before it is validated (see config/load.ts). */
  redactor?: SecretSink;
}

export async function loadReleaseSettings(opts: LoadOptions): Promise<ReleaseSettings> {
  const file = resolve(opts.cwd, opts.file);
  const baseDir = dirname(file);
  if (!existsSync(file)) {
    if (opts.required) throw configError(`config file ${opts.file} not found`, { hint: 'run gangway init, or pass -c <file>' });
    return { build: buildSettings(undefined, baseDir), baseDir, configFound: false };
  }
  const { config } = await loadConfig({ file: opts.file, ...(opts.destination ? { destination: opts.destination } : {}), cwd: opts.cwd, env: opts.env, ...(opts.redactor ? { redactor: opts.redactor } : {}) });
  return {
    ...(config.service ? { service: config.service } : {}),
    ...(config.image ? { image: config.image } : {}),
    ...(config.registry ? { registry: config.registry } : {}),
    build: buildSettings(config.build, baseDir),
    baseDir,
    configFound: true,
  };
}

/** The context is relative to the config's folder; the Dockerfile is relative to the context, as in docker build. */
export function buildSettings(build: Config['build'], baseDir: string): BuildSettings {
  const context = expandPath(build?.context ?? '.', baseDir);
  return {
    context,
    dockerfile: expandPath(build?.dockerfile ?? 'Dockerfile', context),
    args: build?.args ?? {},
    ...(build?.target ? { target: build.target } : {}),
  };
}
