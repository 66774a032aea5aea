// Pure builders: definition + run -> the Engine API bodies that create it. Nothing here talks
// to Docker, so every field gangway sets is checked by unit tests.
import type { ContainerCreateOptions, NetworkCreateOptions, VolumeCreateOptions } from 'dockerode';
import type { ContainerDefinition, NetworkDefinition, VolumeDefinition } from './definitions.js';
import { type RunOwner, resourceName, runLabels } from './labels.js';
import { portKey } from './ports.js';

// Tests publish only on loopback: nothing a test starts is reachable from other machines.
export const PUBLISH_HOST_IP = '127.0.0.1';

const nsFromMs = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : Math.round(ms * 1e6));

export interface NetworkAttachment {
  /** Docker name of the network. */
  network: string;
  /** The container's definition name: others on the network reach it by this. */
  aliases: string[];
}

export interface ContainerPlan {
  create: ContainerCreateOptions;
  /** Networks beyond the first: the engine (API < 1.44) takes one at create, the rest are connected before start. */
  connectBeforeStart: NetworkAttachment[];
}

export function buildContainerPlan(def: ContainerDefinition, owner: RunOwner, imageRef: string): ContainerPlan {
  const o = def.options;
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const port of o.ports ?? []) {
    const key = portKey(port);
    exposed[key] = {};
    bindings[key] = [{ HostIp: PUBLISH_HOST_IP, HostPort: '' }];
  }
  const mounts = (o.mounts ?? []).map((m) =>
    'volume' in m
      ? { Type: 'volume' as const, Source: resourceName(owner.runId, m.volume.name), Target: m.target, ReadOnly: m.readOnly ?? false }
      : { Type: 'bind' as const, Source: m.bind, Target: m.target, ReadOnly: m.readOnly ?? false },
  );
  const attachments: NetworkAttachment[] = (o.networks ?? []).map((n) => ({ network: resourceName(owner.runId, n.name), aliases: [def.name] }));
  const [first, ...rest] = attachments;

  const create: ContainerCreateOptions = {
    name: resourceName(owner.runId, def.name),
    Image: imageRef,
    Labels: { ...(o.labels ?? {}), ...runLabels(owner, def.name) },
    ...(o.cmd ? { Cmd: [...o.cmd] } : {}),
    ...(o.entrypoint ? { Entrypoint: [...o.entrypoint] } : {}),
    ...(o.env ? { Env: Object.entries(o.env).map(([k, v]) => `${k}=${v}`) } : {}),
    ...(o.user ? { User: o.user } : {}),
    ...(o.workingDir ? { WorkingDir: o.workingDir } : {}),
    ...(o.ports?.length ? { ExposedPorts: exposed } : {}),
    ...(o.healthcheck
      ? {
          Healthcheck: {
            Test: [...o.healthcheck.test],
            Interval: nsFromMs(o.healthcheck.intervalMs),
            Timeout: nsFromMs(o.healthcheck.timeoutMs),
            Retries: o.healthcheck.retries,
            StartPeriod: nsFromMs(o.healthcheck.startPeriodMs),
          },
        }
      : {}),
    HostConfig: {
      ...(o.ports?.length ? { PortBindings: bindings } : {}),
      ...(mounts.length ? { Mounts: mounts } : {}),
      ...(first ? { NetworkMode: first.network } : {}),
    },
    ...(first ? { NetworkingConfig: { EndpointsConfig: { [first.network]: { Aliases: first.aliases } } } } : {}),
  };
  return { create: mergeCreateOptions(create, o.createOptions), connectBeforeStart: rest };
}

// HostConfig is merged one level deep so that an override of, say, Memory keeps the port bindings.
function mergeCreateOptions(base: ContainerCreateOptions, extra: Partial<ContainerCreateOptions> | undefined): ContainerCreateOptions {
  if (!extra) return base;
  return {
    ...base,
    ...extra,
    Labels: { ...(extra.Labels ?? {}), ...base.Labels },
    HostConfig: { ...base.HostConfig, ...(extra.HostConfig ?? {}) },
  };
}

export function buildVolumeCreate(def: VolumeDefinition, owner: RunOwner): VolumeCreateOptions {
  return {
    Name: resourceName(owner.runId, def.name),
    Driver: def.options.driver ?? 'local',
    ...(def.options.driverOpts ? { DriverOpts: { ...def.options.driverOpts } } : {}),
    Labels: { ...(def.options.labels ?? {}), ...runLabels(owner, def.name) },
  };
}

export function buildNetworkCreate(def: NetworkDefinition, owner: RunOwner): NetworkCreateOptions {
  return {
    Name: resourceName(owner.runId, def.name),
    Driver: def.options.driver ?? 'bridge',
    Internal: def.options.internal ?? false,
    CheckDuplicate: true,
    Labels: { ...(def.options.labels ?? {}), ...runLabels(owner, def.name) },
  };
}
