// What the sandbox creates on the local engine, as data: names, labels, and the exact
// create options of its network, registry, volumes and host containers.
import type Docker from 'dockerode';
import { SANDBOX_LABEL } from './types.js';
import { REGISTRY_PORT } from './images/registry.js';
import { CHALLTESTSRV_BINARY, CHALLTESTSRV_PORTS, PEBBLE_PORTS } from './images/pebble.js';

export const DEFAULT_SANDBOX_ID = 'default';
export const SANDBOX_ROLE_LABEL = `${SANDBOX_LABEL}.role`;
export const SANDBOX_HOST_LABEL = `${SANDBOX_LABEL}.host`;

/** Every Linux capability Docker knows. */
export const ALL_CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
] as const;

/**
 * --privileged fails on this kind of machine: SYS_RESOURCE is outside its bounding set, and
 * dockerd 20.10 rejects the three capabilities newer than it.
 */
export const CAPABILITIES_NOT_GRANTED = ['SYS_RESOURCE', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE'] as const;

export const HOST_CAPABILITIES: string[] = ALL_CAPABILITIES.filter((c) => !(CAPABILITIES_NOT_GRANTED as readonly string[]).includes(c));

export const HOST_SECURITY_OPTS = ['seccomp=unconfined', 'apparmor=unconfined'];
/** The inner engine creates device nodes for its containers. */
export const HOST_DEVICE_CGROUP_RULES = ['a *:* rwm'];

const ID_RE = /^[a-z0-9][a-z0-9-]{0,30}$/;
export const isValidSandboxId = (id: string): boolean => ID_RE.test(id);

export interface SandboxNames {
  network: string;
  registry: string;
  pebble: string;
  challtestsrv: string;
  host(hostName: string): string;
  dockerVolume(hostName: string): string;
}

/** gangway-sandbox-vm1 for the default sandbox, gangway-sandbox-<id>-vm1 for others. */
export function sandboxNames(id: string): SandboxNames {
  const prefix = id === DEFAULT_SANDBOX_ID ? 'gangway-sandbox' : `gangway-sandbox-${id}`;
  return {
    network: prefix,
    registry: `${prefix}-registry`,
    pebble: `${prefix}-pebble`,
    challtestsrv: `${prefix}-challtestsrv`,
    host: (h) => `${prefix}-${h}`,
    dockerVolume: (h) => `${prefix}-${h}-docker`,
  };
}

export const sandboxHostNames = (count: number): string[] => Array.from({ length: count }, (_, i) => `vm${i + 1}`);

export function sandboxLabels(id: string, role: 'network' | 'registry' | 'host' | 'volume' | 'pebble' | 'challtestsrv', hostName?: string): Record<string, string> {
  return { [SANDBOX_LABEL]: id, [SANDBOX_ROLE_LABEL]: role, ...(hostName ? { [SANDBOX_HOST_LABEL]: hostName } : {}) };
}

/** Engine list filter for one sandbox, or for every sandbox when id is undefined. */
export const sandboxFilter = (id?: string): { label: string[] } => ({ label: [id === undefined ? SANDBOX_LABEL : `${SANDBOX_LABEL}=${id}`] });

export function networkCreateOptions(id: string): Docker.NetworkCreateOptions {
  return { Name: sandboxNames(id).network, Driver: 'bridge', CheckDuplicate: true, Labels: sandboxLabels(id, 'network') };
}

/** A loopback port binding; 0 lets the engine pick a free port (read back after start). */
const loopbackPort = (port: number) => [{ HostIp: '127.0.0.1', HostPort: port === 0 ? '' : String(port) }];

export interface RegistryContainerInput {
  id: string;
  image: string;
  /** Port on the runner's 127.0.0.1; 5000 so `registry:5000` (/etc/hosts) reaches it. */
  localPort: number;
}

export function registryCreateOptions(input: RegistryContainerInput): Docker.ContainerCreateOptions {
  const names = sandboxNames(input.id);
  const port = `${REGISTRY_PORT}/tcp`;
  return {
    name: names.registry,
    Image: input.image,
    Labels: sandboxLabels(input.id, 'registry'),
    ExposedPorts: { [port]: {} },
    HostConfig: {
      NetworkMode: names.network,
      PortBindings: { [port]: loopbackPort(input.localPort) },
      RestartPolicy: { Name: 'no' },
    },
    NetworkingConfig: { EndpointsConfig: { [names.network]: { Aliases: ['registry'] } } },
  };
}

export function hostVolumeCreateOptions(id: string, hostName: string): Docker.VolumeCreateOptions {
  return { Name: sandboxNames(id).dockerVolume(hostName), Labels: sandboxLabels(id, 'volume', hostName) };
}

export interface HostContainerInput {
  id: string;
  image: string;
  hostName: string;
  /** 0: an ephemeral port, read back after start. */
  sshPort: number;
  httpPort: number;
  /** The host's :443 (its proxy's HTTPS listener); 0: ephemeral, like the others. */
  httpsPort?: number;
}

export function hostCreateOptions(input: HostContainerInput): Docker.ContainerCreateOptions {
  const names = sandboxNames(input.id);
  return {
    name: names.host(input.hostName),
    Hostname: input.hostName,
    Image: input.image,
    Labels: sandboxLabels(input.id, 'host', input.hostName),
    ExposedPorts: { '22/tcp': {}, '80/tcp': {}, '443/tcp': {} },
    HostConfig: {
      NetworkMode: names.network,
      CapAdd: HOST_CAPABILITIES,
      SecurityOpt: HOST_SECURITY_OPTS,
      DeviceCgroupRules: HOST_DEVICE_CGROUP_RULES,
      // The inner engine's storage on a volume: overlay on a volume works, overlay on overlay does not.
      Mounts: [{ Type: 'volume', Source: names.dockerVolume(input.hostName), Target: '/var/lib/docker' }],
      PortBindings: { '22/tcp': loopbackPort(input.sshPort), '80/tcp': loopbackPort(input.httpPort), '443/tcp': loopbackPort(input.httpsPort ?? 0) },
      // A restarted outer engine must not resurrect hosts: `up` always starts from a sweep.
      RestartPolicy: { Name: 'no' },
      // tini as PID 1 reaps what sshd and dockerd leave behind.
      Init: true,
    },
    NetworkingConfig: { EndpointsConfig: { [names.network]: { Aliases: [input.hostName] } } },
  };
}

/** The runner-side port the engine bound for a container port, from `inspect`. */
export function publishedPort(inspect: Docker.ContainerInspectInfo, containerPort: string): number | undefined {
  const bindings = inspect.NetworkSettings.Ports?.[containerPort];
  const port = bindings?.find((b) => b.HostIp === '127.0.0.1')?.HostPort ?? bindings?.[0]?.HostPort;
  return port ? Number(port) : undefined;
}

/** The network alias Pebble answers on, the name its listener certificate holds (images/pebble.ts). */
export const PEBBLE_ALIAS = 'pebble';

export interface AcmeCaContainerInput {
  id: string;
  image: string;
}

const tcp = (port: number) => `${port}/tcp`;

/** A service container of the CA on the sandbox network under one alias, its ports on ephemeral loopback ports. */
function caServiceOptions(input: AcmeCaContainerInput, role: 'pebble' | 'challtestsrv', alias: string, ports: number[]): Docker.ContainerCreateOptions {
  const names = sandboxNames(input.id);
  return {
    name: names[role],
    Image: input.image,
    Labels: sandboxLabels(input.id, role),
    ExposedPorts: Object.fromEntries(ports.map((p) => [tcp(p), {}])),
    HostConfig: { NetworkMode: names.network, PortBindings: Object.fromEntries(ports.map((p) => [tcp(p), loopbackPort(0)])), RestartPolicy: { Name: 'no' } },
    NetworkingConfig: { EndpointsConfig: { [names.network]: { Aliases: [alias] } } },
  };
}

/**
 * challtestsrv as Pebble's DNS only: no challenge listeners of its own (the hosts answer
 * HTTP-01), and no default AAAA answer, so a name resolves to the A records a test sets.
 */
export function challtestsrvCreateOptions(input: AcmeCaContainerInput): Docker.ContainerCreateOptions {
  return {
    ...caServiceOptions(input, 'challtestsrv', 'challtestsrv', [CHALLTESTSRV_PORTS.management]),
    Entrypoint: [CHALLTESTSRV_BINARY],
    Cmd: ['-http01', '', '-https01', '', '-tlsalpn01', '', '-defaultIPv6', '', '-dns01', `:${CHALLTESTSRV_PORTS.dns}`, '-management', `:${CHALLTESTSRV_PORTS.management}`],
  };
}

/** Pebble, resolving names through challtestsrv (by address: Pebble dials it directly). */
export function pebbleCreateOptions(input: AcmeCaContainerInput & { dnsServer: string }): Docker.ContainerCreateOptions {
  return {
    ...caServiceOptions(input, 'pebble', PEBBLE_ALIAS, [PEBBLE_PORTS.acme, PEBBLE_PORTS.management]),
    Cmd: ['-dnsserver', `${input.dnsServer}:${CHALLTESTSRV_PORTS.dns}`],
    // No wait before validating, and no nonces refused at random: tests stay fast and repeatable.
    Env: ['PEBBLE_VA_NOSLEEP=1', 'PEBBLE_WFE_NONCEREJECT=0'],
  };
}

/** A container's address on the sandbox network, from `inspect`. */
export const networkAddress = (inspect: Docker.ContainerInspectInfo, network: string): string | undefined =>
  inspect.NetworkSettings.Networks?.[network]?.IPAddress || undefined;
