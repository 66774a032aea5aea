// The part of gangway.yml that build and release need (image, registry, build), read through the
// shared config loader; a minimal reader stands in while src/config/load.ts is not there.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configError, messageOf } from '../errors.js';
import { interpolateValue, makeLookup } from '../config/interpolate.js';
import { deepMerge } from '../config/merge.js';
import { configSchema } from '../config/schema.js';
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

const releasePart = z.object({ ...configSchema.pick({ image: true, registry: true, build: true }).shape, service: configSchema.shape.service.optional() });
type ReleasePart = z.output<typeof releasePart>;

interface SharedLoader {
  loadConfig(opts: { file: string; destination?: string; cwd: string; env: NodeJS.ProcessEnv; redactor?: SecretSink }): Promise<{ config: ReleasePart }>;
}

export async function loadReleaseSettings(opts: LoadOptions): Promise<ReleaseSettings> {
  const file = resolve(opts.cwd, opts.file);
  const baseDir = dirname(file);
  if (!existsSync(file)) {
    if (opts.required) throw configError(`config file ${opts.file} not found`, { hint: 'run gangway init, or pass -c <file>' });
    return { build: buildSettings(undefined, baseDir), baseDir, configFound: false };
  }
  const config = await loadWithSharedLoader(opts) ?? await loadMinimal(file, opts);
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
export function buildSettings(build: ReleasePart['build'], baseDir: string): BuildSettings {
  const context = expandPath(build?.context ?? '.', baseDir);
  return {
    context,
    dockerfile: expandPath(build?.dockerfile ?? 'Dockerfile', context),
    args: build?.args ?? {},
    ...(build?.target ? { target: build.target } : {}),
  };
}

async function loadWithSharedLoader(opts: LoadOptions): Promise<ReleasePart | undefined> {
  // A variable specifier: the module may not exist yet, and tsc must not insist that it does.
  const specifier = '../config/load.js';
  let loader: Partial<SharedLoader>;
  try {
    loader = (await import(specifier)) as Partial<SharedLoader>;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && messageOf(err).includes('load')) return undefined;
    throw err;
  }
  if (typeof loader.loadConfig !== 'function') return undefined;
  const { config } = await loader.loadConfig({ file: opts.file, ...(opts.destination ? { destination: opts.destination } : {}), cwd: opts.cwd, env: opts.env, ...(opts.redactor ? { redactor: opts.redactor } : {}) });
  return config;
}

async function loadMinimal(file: string, opts: LoadOptions): Promise<ReleasePart> {
  const read = async (path: string) => {
    try {
      return parseYaml(await readFile(path, 'utf8')) as unknown;
    } catch (err) {
      throw configError(`cannot read ${path}: ${messageOf(err)}`);
    }
  };
  let value = await read(file);
  if (opts.destination) value = deepMerge(value, await read(resolve(dirname(file), `gangway.${opts.destination}.yml`)));
  const secretsPath = resolve(dirname(file), '.gangway/secrets');
  const secrets = existsSync(secretsPath) ? parseDotenv(await readFile(secretsPath)) : {};
  const interpolated = interpolateValue(value, makeLookup(opts.env, secrets));
  if (interpolated.bad.length) {
    throw configError(`${opts.file}: unresolved ${interpolated.bad.map((b) => b.raw).join(', ')}`, { hint: 'set the variables in the environment or in .gangway/secrets' });
  }
  const parsed = releasePart.safeParse(interpolated.value);
  if (!parsed.success) throw configError(`${opts.file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
