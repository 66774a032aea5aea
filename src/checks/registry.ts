// Every resource gangway verify knows: what to check (./resources) paired with how to look
// (./probes). Adding a resource: one file in each folder and one line here.
import type { Probe } from './probes/probe.js';
import type { Resource } from './resources/resource.js';
import { commandProbe } from './probes/command.js';
import { containerProbe } from './probes/container.js';
import { directoryProbe } from './probes/directory.js';
import { envFilesProbe } from './probes/env-files.js';
import { fileProbe } from './probes/file.js';
import { groupProbe } from './probes/group.js';
import { httpProbe } from './probes/http.js';
import { imageProbe } from './probes/image.js';
import { mountProbe } from './probes/mount.js';
import { packageProbe } from './probes/package.js';
import { portProbe } from './probes/port.js';
import { processProbe } from './probes/process.js';
import { serviceProbe } from './probes/service.js';
import { sysctlProbe } from './probes/sysctl.js';
import { userProbe } from './probes/user.js';
import { certificateResource } from './resources/certificate.js';
import { commandResource } from './resources/command.js';
import { containerResource } from './resources/container.js';
import { directoryResource } from './resources/directory.js';
import { envFilesResource } from './resources/env-files.js';
import { fileResource } from './resources/file.js';
import { groupResource } from './resources/group.js';
import { httpResource } from './resources/http.js';
import { imageResource } from './resources/image.js';
import { mountResource } from './resources/mount.js';
import { packageResource } from './resources/package.js';
import { portResource } from './resources/port.js';
import { processResource } from './resources/process.js';
import { serviceResource } from './resources/service.js';
import { sysctlResource } from './resources/sysctl.js';
import { userResource } from './resources/user.js';

export interface ResourceKind {
  resource: Resource<never>;
  /**
   * How the host's script looks. Absent: gangway observes the resource itself, from the runner,
   * over the host's connection (a certificate: RUNNER_PROBES in src/verify/run.ts).
   */
  probe?: Probe<never>;
  /** Built in: checked on every verify, never written in a spec. */
  builtIn?: boolean;
}

const kind = <S>(resource: Resource<S & Record<string, unknown>>, probe: Probe<S> | undefined, builtIn = false): ResourceKind =>
  ({ resource, ...(probe ? { probe } : {}), ...(builtIn ? { builtIn } : {}) }) as unknown as ResourceKind;

export const RESOURCE_KINDS: readonly ResourceKind[] = [
  kind(fileResource, fileProbe),
  kind(directoryResource, directoryProbe),
  kind(packageResource, packageProbe),
  kind(processResource, processProbe),
  kind(serviceResource, serviceProbe),
  kind(portResource, portProbe),
  kind(commandResource, commandProbe),
  kind(userResource, userProbe),
  kind(groupResource, groupProbe),
  kind(httpResource, httpProbe),
  kind(containerResource, containerProbe),
  kind(imageResource, imageProbe),
  kind(mountResource, mountProbe),
  kind(sysctlResource, sysctlProbe),
  kind(certificateResource, undefined),
  kind(envFilesResource, envFilesProbe, true),
];

const BY_TYPE = new Map(RESOURCE_KINDS.map((k) => [k.resource.type, k]));

export function resourceKind(type: string): ResourceKind {
  const k = BY_TYPE.get(type);
  if (!k) throw new Error(`unknown verify resource ${type}`);
  return k;
}

/** The host-script probe of a type; throws for a type gangway observes from the runner. */
export function scriptProbe(type: string): Probe<never> {
  const probe = resourceKind(type).probe;
  if (!probe) throw new Error(`verify resource ${type} is observed from the runner, not by the host's script`);
  return probe;
}

/** The types a spec may declare, in registry order. */
export const DECLARABLE_TYPES: readonly string[] = RESOURCE_KINDS.filter((k) => !k.builtIn).map((k) => k.resource.type);
