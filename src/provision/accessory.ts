// Runs accessories on their hosts: boot (idempotent), reboot, remove, logs. Every call takes the
// spec from accessory-spec.ts; nothing here decides what a container looks like.
import type Docker from 'dockerode';
import { statusCodeOf as statusOf } from '../docker/errors.js';
import { removeContainer, writeEnvFile } from '../app/container.js';
import { removeEnvFileCommand } from '../app/env-file.js';
import type { Config } from '../config/schema.js';
import { ensureImage, registryAuth } from '../deploy/image.js';
import { messageOf, operationError } from '../errors.js';
import type { Events } from '../events/events.js';
import type { Host } from '../hosts/host.js';
import { ACCESSORY_LABEL, accessoryLabelFilters, accessorySpec, type AccessorySpec } from './accessory-spec.js';
import { createContainer } from '../docker/containers.js';

export interface AccessoryContext {
  config: Config;
  secrets: Record<string, string>;
  network: string;
  events: Events;
}

export type BootResult = 'created' | 'started' | 'running';

export interface AccessoryState {
  id: string;
  name: string;
  running: boolean;
  specHash?: string;
}


export function specFor(ctx: AccessoryContext, name: string): AccessorySpec {
  const accessory = ctx.config.accessories[name];
  if (!accessory) throw operationError(`no accessory ${name}`, { step: 'accessory' });
  return accessorySpec({ service: ctx.config.service, name, accessory, secrets: ctx.secrets, network: ctx.network });
}

/** The accessory's container on the host, found by its labels (never by name alone). */
export async function findAccessory(host: Host, service: string, name: string): Promise<AccessoryState | undefined> {
  const docker = await host.docker();
  const list = await docker.listContainers({ all: true, filters: { label: accessoryLabelFilters(service, name) } });
  const c = list[0];
  if (!c) return undefined;
  return { id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, ''), running: c.State === 'running', ...(c.Labels[ACCESSORY_LABEL.spec] ? { specHash: c.Labels[ACCESSORY_LABEL.spec] } : {}) };
}

function pullAuth(config: Config, image: string) {
  const auth = registryAuth(config);
  return auth && image.startsWith(`${auth.serveraddress}/`) ? auth : undefined;
}

/**
 * Boots the accessory unless it runs: a stopped one is started, a missing one is created. A
 * running one whose config changed is left alone with a warning: restarting a database is
 * `gangway accessory reboot`'s decision, not setup's.
 */
export async function bootAccessory(host: Host, ctx: AccessoryContext, name: string): Promise<BootResult> {
  const spec = specFor(ctx, name);
  const where = { host: host.name, step: `accessory ${name}` };
  const t0 = Date.now();
  ctx.events.step(where.step, 'start', { host: host.name, message: spec.containerName });
  try {
    const existing = await findAccessory(host, ctx.config.service, name);
    let result: BootResult;
    if (existing?.running) {
      result = 'running';
      if (existing.specHash !== spec.specHash) {
        ctx.events.log(`${spec.containerName} runs with an older config; \`gangway accessory reboot ${name}\` applies the new one`, { ...where, level: 'warn' });
      }
    } else if (existing) {
      await (await host.docker()).getContainer(existing.id).start();
      result = 'started';
    } else {
      await createAndStart(host, ctx, spec);
      result = 'created';
    }
    ctx.events.step(where.step, 'done', { host: host.name, message: `${spec.containerName} ${result}`, durationMs: Date.now() - t0 });
    return result;
  } catch (err) {
    ctx.events.step(where.step, 'fail', { host: host.name, message: messageOf(err) });
    throw err;
  }
}

async function createAndStart(host: Host, ctx: AccessoryContext, spec: AccessorySpec): Promise<void> {
  const step = `accessory ${spec.name}`;
  await ensureImage(host, spec.image, { alwaysPull: false, ...(pullAuth(ctx.config, spec.image) ? { auth: pullAuth(ctx.config, spec.image)! } : {}), timeoutMs: 300_000 });
  if (spec.directories) {
    const r = await host.exec(spec.directories.command, { timeoutMs: 30_000 });
    if (r.code !== 0) throw operationError(`could not create the directories of ${spec.containerName}: ${r.stderr.trim()}`, { host: host.name, step });
  }
  await writeEnvFile(host, spec.envFilePath, spec.env);
  const docker = await host.docker();
  let container: Docker.Container;
  try {
    container = await createContainer(docker, spec.createOptions);
  } catch (err) {
    const hint = statusOf(err) === 409 ? `a container named ${spec.containerName} exists but is not gangway's accessory; rename or remove it` : undefined;
    throw operationError(`could not create ${spec.containerName}: ${messageOf(err)}`, { host: host.name, step, ...(hint ? { hint } : {}), cause: err });
  }
  try {
    await container.start();
  } catch (err) {
    // A container that never started holds the name; without it the next boot starts from the config again.
    await container.remove({ force: true }).catch(() => {});
    throw operationError(`could not start ${spec.containerName}: ${messageOf(err)}`, { host: host.name, step, cause: err });
  }
}

/** Removes the container and its env file; host directories and volumes keep their data. */
export async function removeAccessory(host: Host, ctx: AccessoryContext, name: string): Promise<boolean> {
  const spec = specFor(ctx, name);
  const t0 = Date.now();
  const existing = await findAccessory(host, ctx.config.service, name);
  if (existing) await removeContainer(host, existing.id);
  const rm = removeEnvFileCommand(spec.envFilePath);
  await host.exec(rm.command, { timeoutMs: 30_000 });
  ctx.events.step(`accessory ${name}`, existing ? 'done' : 'skip', { host: host.name, message: existing ? `removed ${existing.name}` : `${spec.containerName} was not there`, durationMs: Date.now() - t0 });
  return existing !== undefined;
}

/** Pulls first, so a missing image fails before the running accessory is removed. */
export async function rebootAccessory(host: Host, ctx: AccessoryContext, name: string): Promise<void> {
  const spec = specFor(ctx, name);
  await ensureImage(host, spec.image, { alwaysPull: false, ...(pullAuth(ctx.config, spec.image) ? { auth: pullAuth(ctx.config, spec.image)! } : {}), timeoutMs: 300_000 });
  await removeAccessory(host, ctx, name);
  await bootAccessory(host, ctx, name);
}

/** The accessory's container on the host, for its logs; an accessory not booted there is an error. */
export async function accessoryContainer(host: Host, ctx: AccessoryContext, name: string): Promise<AccessoryState> {
  const existing = await findAccessory(host, ctx.config.service, name);
  if (!existing) throw operationError(`accessory ${name} is not on ${host.name}`, { host: host.name, step: `accessory ${name}`, hint: `gangway accessory boot ${name}` });
  return existing;
}
