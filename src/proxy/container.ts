// The proxy container as data: the Engine API create options for one HAProxy per host, and a
// hash of them kept in a label so ensureProxy can tell an outdated container from a current one.
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { CONFIG_FILE, MANAGED_PROXY, PROXY_CONTAINER_DIR, PROXY_CONTAINER_NAME, PROXY_HOST_DIR, PROXY_LABEL, PROXY_LISTEN_PORT } from './paths.js';
import { KEEP_RUNNING } from '../state/restart-policy.js';
import { assertProxyUid } from './identity.js';

export interface ProxyContainerOptions {
  image: string;
  /** Host port published onto the proxy's :80. */
  httpPort: number;
  /** Published onto :443 when set (no TLS frontend is rendered yet: see README). */
  httpsPort?: number;
  /** Host address to publish on; '' means every interface. Tests use 127.0.0.1. */
  publishAddress?: string;
  network: string;
  containerName?: string;
  hostDir?: string;
  /** Extra labels (a test's cleanup label); gangway.* keys are reserved. */
  labels?: Record<string, string>;
  /** Who HAProxy runs as: a uid no host account has, and the host's docker group (identity.ts). */
  uid: number;
  gid: number;
}

/** Lets a non-root process bind :80 and :443 in the container's own network namespace. */
const UNPRIVILEGED_PORTS_SYSCTL = { 'net.ipv4.ip_unprivileged_port_start': '0' } as const;

const PROXY_COMMAND = ['-W', '-db', '-f', `${PROXY_CONTAINER_DIR}/${CONFIG_FILE}`];

export function proxyContainerSpec(opts: ProxyContainerOptions): Docker.ContainerCreateOptions {
  assertProxyUid(opts.uid);
  if (!Number.isInteger(opts.gid) || opts.gid < 0) throw new Error(`proxy gid ${opts.gid} must be a non-negative integer`);
  const hostIp = opts.publishAddress ?? '';
  const ports: Record<string, Array<{ HostIp: string; HostPort: string }>> = {
    [`${PROXY_LISTEN_PORT}/tcp`]: [{ HostIp: hostIp, HostPort: String(opts.httpPort) }],
  };
  if (opts.httpsPort !== undefined) ports['443/tcp'] = [{ HostIp: hostIp, HostPort: String(opts.httpsPort) }];
  for (const key of Object.keys(opts.labels ?? {})) {
    if (key.startsWith('gangway.managed') || key.startsWith('gangway.proxy.')) throw new Error(`label ${key} is reserved for gangway`);
  }
  const base: Docker.ContainerCreateOptions = {
    name: opts.containerName ?? PROXY_CONTAINER_NAME,
    Image: opts.image,
    // gangway's own command line, whatever the image's default: master-worker (-W) is what makes a
    // settings reload (SIGUSR2) possible, and -db keeps it in the foreground. The official image
    // adds these in its entrypoint script; an image built from Debian's package runs a plain
    // `haproxy -f`, which cannot reload. `haproxy` is found on the image's PATH.
    Entrypoint: ['haproxy'],
    Cmd: PROXY_COMMAND,
    // Soft stop: a `docker stop` or restart of the proxy lets the requests in flight finish
    // (within hard-stop-after) instead of cutting them, whatever STOPSIGNAL the image says.
    StopSignal: 'SIGUSR1',
    // Unprivileged, whatever user the image names (the official one: uid 99; a Debian-built one:
    // root). The group is the host's docker group: the bind-mounted directory is that group's
    // (setgid, 2770), so HAProxy may create its admin socket there, and the socket (mode 660)
    // belongs to this uid and the docker group only. See README.md, "Unprivileged".
    User: `${opts.uid}:${opts.gid}`,
    ExposedPorts: Object.fromEntries(Object.keys(ports).map((p) => [p, {}])),
    Labels: { ...(opts.labels ?? {}), [PROXY_LABEL.managed]: MANAGED_PROXY },
    HostConfig: {
      RestartPolicy: { ...KEEP_RUNNING },
      PortBindings: ports,
      Binds: [`${opts.hostDir ?? PROXY_HOST_DIR}:${PROXY_CONTAINER_DIR}`],
      NetworkMode: opts.network,
      // :80 and :443 without a capability: a capability added to a non-root process is not in its
      // effective set (no ambient capabilities on Docker 20.10), while net.* sysctls apply to the
      // container's own network namespace. Docker 20.10 sets this by default; gangway does not
      // rely on that default.
      Sysctls: { ...UNPRIVILEGED_PORTS_SYSCTL },
      // Nothing to keep: no capability, and no setuid binary of the image can give one back.
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
    },
  };
  base.Labels![PROXY_LABEL.spec] = specHash(base);
  return base;
}

/** Hash of the create options without the hash label itself. */
export function specHash(spec: Docker.ContainerCreateOptions): string {
  const labels = { ...(spec.Labels ?? {}) };
  delete labels[PROXY_LABEL.spec];
  return createHash('sha256').update(stableJson({ ...spec, Labels: labels })).digest('hex').slice(0, 16);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The host port a running proxy publishes its :443 on, from its inspect data. A service that does
 * not set https_port keeps it (ensureProxy): otherwise its deploy would recreate the host's proxy
 * without the HTTPS port another service on the host uses.
 */
export function publishedHttpsPort(inspect: Pick<Docker.ContainerInspectInfo, 'HostConfig'> | undefined): number | undefined {
  const bound = inspect?.HostConfig?.PortBindings?.['443/tcp'] as Array<{ HostPort?: string }> | undefined;
  const port = Number(bound?.[0]?.HostPort);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}
