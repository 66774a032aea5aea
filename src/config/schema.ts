// The gangway.yml schema. Durations and percentages are parsed here, so the rest of the code
// sees numbers with units in their meaning (milliseconds, fractions). Every custom message says
// what was expected; the loader appends what it got and where (file:line:col).
import { z } from 'zod';
import { hostNameProblem, pathPrefixProblem } from '../proxy/layout.js';
import { PROXY_UID } from '../proxy/paths.js';
import { verifySchema } from '../checks/spec.js';

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "30s" -> 30000. Throws on anything else; the schema reports it with its position. */
export function parseDurationMs(text: string): number {
  const m = DURATION_RE.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text}`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

const DURATION_EXPECTED = 'expected a duration such as 500ms, 30s, 2m or 1h';

export const duration = z
  .string({ error: DURATION_EXPECTED })
  .regex(DURATION_RE, { message: DURATION_EXPECTED })
  .transform(parseDurationMs)
  .describe('A duration: a number followed by ms, s, m or h (e.g. 30s, 2m).');

const BOOT_LIMIT_EXPECTED = 'expected a percentage such as 25% or a host count such as 2';
const PERCENT_RE = /^\d+(?:\.\d+)?%$/;

/** "25%" -> { percent: 25 }, 2 -> { count: 2 } */
export const bootLimit = z
  .union(
    [
      z.int({ error: BOOT_LIMIT_EXPECTED }).positive({ error: BOOT_LIMIT_EXPECTED }),
      z
        .string({ error: BOOT_LIMIT_EXPECTED })
        .regex(PERCENT_RE, { message: BOOT_LIMIT_EXPECTED })
        .refine((s) => Number(s.slice(0, -1)) > 0 && Number(s.slice(0, -1)) <= 100, {
          message: 'expected a percentage above 0% and at most 100%',
        })
        .transform((s) => ({ percent: Number(s.slice(0, -1)) })),
    ],
    { error: BOOT_LIMIT_EXPECTED },
  )
  .transform((v) => (typeof v === 'number' ? { count: v } : v))
  .describe('How many hosts of a role boot at once: a count (2) or a percentage of the role (25%).');

const NAME_RE = /^[a-z0-9][a-z0-9_.-]*$/;
const name = z.string().regex(NAME_RE, { message: 'expected lower-case letters, digits, ".", "_" or "-"' });

/** Host names and addresses; users go in ssh.user or hosts.<name>.user, never in the name. */
const HOST_NAME_RE = /^[A-Za-z0-9_.:-]+$/;
export const HOST_NAME_EXPECTED = 'expected a host name or address';
const hostName = z.string().min(1, { message: HOST_NAME_EXPECTED }).regex(HOST_NAME_RE, { message: HOST_NAME_EXPECTED });

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envName = z.string().regex(ENV_NAME_RE, { message: 'expected an environment variable name (letters, digits and _)' });
const envMap = z.record(envName, z.string()).describe('Environment variables given in clear (not secret).');

const port = z.int().min(1).max(65535);
const fileName = z.string().min(1);

const roleSchema = z
  .strictObject({
    hosts: z
      .array(hostName)
      .min(1, { message: 'a role needs at least one host' })
      .describe('Hosts this role runs on; `localhost` means the local Docker engine without SSH.'),
    cmd: z.array(z.string()).optional().describe('Command that overrides the image CMD for this role.'),
    proxy: z.boolean().optional().describe('Put this role behind the proxy (default: only the primary role).'),
    env: z.strictObject({ clear: envMap.default({}) }).optional().describe('Environment added to the global env for this role.'),
  })
  .describe('A role: a set of hosts that run the same container.');

const proxySpec = z.union([
  z.literal(false),
  z.string().regex(/^(none|(?:[^@\s,]+@)?[A-Za-z0-9_.-]+(?::\d{1,5})?)$/, { message: 'expected user@host[:port] of one bastion, or none' }),
]);

const hostSchema = z
  .strictObject({
    address: z.string().min(1).optional().describe('Address to connect to (default: the host name).'),
    port: port.optional().describe('SSH port (default: ssh.port).'),
    user: z.string().min(1).optional().describe('SSH user (default: ssh.user).'),
    identity: fileName.optional().describe('Private key file (default: ssh.identity); ~ is expanded.'),
    proxy: proxySpec.optional().describe('Bastion this host is reached through (default: ssh.proxy, then the ssh config\'s ProxyJump); false or "none" for a direct connection.'),
  })
  .describe('Connection details of one host.');

const sshSchema = z
  .strictObject({
    user: z.string().min(1).default('root'),
    port: port.default(22),
    identity: fileName.optional().describe('Private key file; ~ is expanded, relative paths are relative to the config file.'),
    known_hosts: fileName.default('~/.ssh/known_hosts'),
    trust_on_first_use: z.boolean().default(false).describe('Accept and record unknown host keys (never a changed one).'),
    connect_timeout: duration.default(10_000),
    keepalive_interval: duration.default(15_000),
    config: z
      .union([fileName, z.literal(false)])
      .default('~/.ssh/config')
      .describe('OpenSSH client config read for hosts\' HostName, User, Port, IdentityFile, ProxyJump... (gangway.yml wins where both set a value); false ignores it.'),
    proxy: proxySpec.optional().describe('Bastion every host is reached through (user@host[:port]); false or "none" turns off an ssh config ProxyJump.'),
  })
  .describe('How to reach the hosts over SSH.');

const CHECK_PATH_SAFE = /^[^\s"'\\|;#]*$/;
const healthcheckSchema = z.strictObject({
  path: z
    .string()
    .startsWith('/', { message: 'expected a path starting with /' })
    // It goes into the proxy's map of slot settings: see src/proxy/layout.ts.
    .refine((p) => !p.startsWith('/') || CHECK_PATH_SAFE.test(p), { message: 'expected a path without spaces, quotes, "|", ";" or "#"' })
    .default('/up'),
  interval: duration.default(1000),
  timeout: duration.default(5000),
  status: z.int().min(100).max(599).default(200).describe('The HTTP status a healthy app answers the check with.'),
  host: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d+)?$/, { message: 'expected a host name such as app.example.com' })
    .default('localhost')
    .describe('The Host header of the check request.'),
});

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';
export const DEFAULT_HTTPS_PORT = 443;
/** No image is published: `sandbox up` pushes one, examples/acme-image builds one; see docs/tls.md, "The image". */
export const DEFAULT_ACME_IMAGE = 'gangway/acme';
export const DEFAULT_RENEW_DAYS = 30;
export const DEFAULT_ISSUE_TIMEOUT_MS = 180_000;

const proxySchema = z.strictObject({
  app_port: port.default(80).describe('The port the app listens on inside its container.'),
  // 2.6: the line every test runs (Debian 12's 2.6.12); 3.0 runs the proxy and deploy tests
  // only: see src/proxy/README.md, "Default image".
  image: z.string().min(1).default('haproxy:2.6').describe('The HAProxy image (default: the 2.6 LTS line, the one every gangway test runs); build one locally where there is no registry.'),
  http_port: port.default(80).describe('Port the proxy publishes on the host.'),
  https_port: port.optional().describe('Port the proxy publishes its HTTPS listener on (default 443 when proxy.ssl is on).'),
  ssl: z
    .union(
      [
        z.boolean(),
        z.strictObject({
          certificate_pem: envName.describe('Name of the gangway secret holding the certificate chain (PEM, leaf first).'),
          private_key_pem: envName.describe('Name of the gangway secret holding its private key (PEM).'),
        }),
      ],
      { error: 'expected true, false, or { certificate_pem: SECRET, private_key_pem: SECRET }' },
    )
    .default(false)
    .describe('HTTPS for the names of proxy.hosts: true = ACME certificates; { certificate_pem, private_key_pem } = your own, from gangway secrets.'),
  ssl_redirect: z.boolean().default(true).describe('With proxy.ssl on, answer plain HTTP with a 308 to https (the ACME challenge path excepted).'),
  acme: z
    .strictObject({
      directory: z.url({ message: 'expected the URL of an ACME directory' }).default(LETS_ENCRYPT_DIRECTORY).describe('ACME directory URL (default: Let\'s Encrypt production).'),
      email: z.email({ message: 'expected an email address' }).optional().describe('Contact address registered with the CA.'),
      image: z.string().min(1).default(DEFAULT_ACME_IMAGE).describe('The image of the renewal container gangway-acme (lego, socat, openssl, a POSIX sh); no image is published: build it from examples/acme-image and make it pullable by the hosts, as for the proxy image (gangway sandbox up pushes one).'),
      ca_file: fileName.optional().describe('A PEM file on this machine (relative to the config) with the roots of a private CA: trusted by the ACME container for the directory (copied to each host) and by gangway verify for the served certificates.'),
      renew_days: z.int().min(1).default(DEFAULT_RENEW_DAYS).describe('Renew a certificate when fewer than this many days are left.'),
      issue_timeout: duration.default(DEFAULT_ISSUE_TIMEOUT_MS).describe('How long a deploy waits for the first certificate of a new name (default 3m) before it fails, the old version still serving.'),
      extra_hosts: z.array(z.string().regex(/^[A-Za-z0-9.-]+:[0-9a-fA-F.:]+$/, { message: 'expected name:address, e.g. ca.internal:10.0.0.5' })).optional().describe('name:address entries for the ACME container, for a private CA whose name the hosts\' DNS does not know.'),
    })
    .optional()
    .describe('Where ACME certificates come from when proxy.ssl is true.'),
  bind: z
    .string()
    .regex(/^(\d{1,3}(\.\d{1,3}){3}|)$/, { message: 'expected an IPv4 address such as 127.0.0.1, or "" for every interface' })
    .default('')
    .describe('Host address the proxy ports are published on ("" = every interface; 127.0.0.1 keeps it local).'),
  healthcheck: healthcheckSchema.prefault({}).describe('How the proxy and deploys decide a container is healthy.'),
  hosts: z
    .array(z.string().superRefine((name, ctx) => {
      const problem = hostNameProblem(name);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }))
    .min(1, { message: 'list at least one host name, or leave proxy.hosts out for the catch-all' })
    .optional()
    .describe('HTTP Host names this service answers on the shared proxy; without it the service is the catch-all (every name no other service claims; one per host).'),
  path_prefix: z
    .string()
    .superRefine((prefix, ctx) => {
      const problem = pathPrefixProblem(prefix);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .describe('Only requests under this path (e.g. /api) to the names of proxy.hosts go to this service (proxy.hosts is required with it); the longest prefix wins. Not stripped: the app sees the full path.'),
  response_timeout: duration.default(60_000).describe('Longest the app may take to answer a request (504 after).'),
  max_body_size: z.int().min(1).optional().describe('Largest request body in bytes, by Content-Length (413 above it); default no limit.'),
  forward_headers: z.boolean().default(true).describe('Set X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host on requests to the app.'),
  uid: z
    .int()
    .min(1)
    .max(2 ** 31 - 1)
    .default(PROXY_UID)
    .describe(`The uid HAProxy runs as, with the host's docker group as its group; no host account may have it (default ${PROXY_UID}).`),
});

const PUBLISH_RE = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/;
const PUBLISH_EXPECTED = 'expected a port number (published on 127.0.0.1) or "[address:]hostPort:containerPort" such as "127.0.0.1:5432:5432"';

/** A published port as the Engine API wants it: container port/proto, host address and port. */
export interface PublishedPort {
  containerPort: number;
  proto: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
}

/** 5432 -> 127.0.0.1:5432:5432 (a database is not opened to the world by a shorthand). */
export const publishedPort = z
  .union([port, z.string().regex(PUBLISH_RE, { message: PUBLISH_EXPECTED })], { error: PUBLISH_EXPECTED })
  .transform((v): PublishedPort => {
    if (typeof v === 'number') return { containerPort: v, proto: 'tcp', hostIp: '127.0.0.1', hostPort: v };
    const m = PUBLISH_RE.exec(v)!;
    return { containerPort: Number(m[3]), proto: (m[4] as 'tcp' | 'udp' | undefined) ?? 'tcp', hostIp: m[1] ?? '', hostPort: Number(m[2]) };
  })
  .refine((p) => p.containerPort >= 1 && p.containerPort <= 65535 && p.hostPort >= 1 && p.hostPort <= 65535, { message: 'ports must be from 1 to 65535' })
  .describe('A published port: a number N publishes 127.0.0.1:N -> N; "[address:]hostPort:containerPort[/udp]" as docker run -p.');

const ACCESSORY_MOUNT_RE = /^[^:\s]+:\/[^:\s]*(?::(ro|rw))?$/;
const accessoryMount = z
  .string()
  .regex(ACCESSORY_MOUNT_RE, { message: 'expected "source:/path/in/container" with an optional ":ro"' });

export const accessorySchema = z
  .strictObject({
    image: z.string().min(1).describe('Image reference, e.g. registry:5000/library/postgres:16 (pulled on the host when missing).'),
    host: hostName.optional().describe('The host it runs on.'),
    hosts: z.array(hostName).min(1).optional().describe('Hosts it runs on (one container each); instead of host.'),
    port: publishedPort.optional(),
    cmd: z
      .union([z.string().min(1).transform((c) => ['/bin/sh', '-c', c]), z.array(z.string()).min(1)])
      .optional()
      .describe('Command: a list (exec form) or a string run with /bin/sh -c.'),
    env: z
      .strictObject({
        clear: envMap.default({}),
        secret: z.array(envName).default([]).describe('Names of secret variables, read from the environment or .gangway/secrets.'),
      })
      .prefault({}),
    volumes: z.array(accessoryMount).default([]).describe('docker -v style mounts: a named volume or an absolute host path, then the container path.'),
    directories: z
      .array(accessoryMount)
      .default([])
      .describe('Host directories created before boot: a relative source lands under /var/lib/gangway/accessories/<service>-<name>/.'),
    labels: z.record(z.string(), z.string()).default({}).describe('Extra container labels (gangway.* is reserved).'),
  })
  .refine((a) => (a.host === undefined) !== (a.hosts === undefined), { message: 'an accessory needs exactly one of host or hosts' })
  .describe('A container the app needs (a database, a cache) that deploys never touch; booted by `gangway setup`.');

const CANARY_STEP_EXPECTED = 'expected a percentage of the traffic above 0% and below 100%, such as 10%';
const canaryStep = z
  .string({ error: CANARY_STEP_EXPECTED })
  .regex(PERCENT_RE, { message: CANARY_STEP_EXPECTED })
  .refine((s) => Number(s.slice(0, -1)) > 0 && Number(s.slice(0, -1)) < 100, { message: CANARY_STEP_EXPECTED })
  .transform((s) => Number(s.slice(0, -1)));

const ERROR_RATE_EXPECTED = 'expected a percentage from 0% to 100%, such as 1%';
const errorRate = z
  .string({ error: ERROR_RATE_EXPECTED })
  .regex(PERCENT_RE, { message: ERROR_RATE_EXPECTED })
  .refine((s) => Number(s.slice(0, -1)) <= 100, { message: ERROR_RATE_EXPECTED })
  .transform((s) => Number(s.slice(0, -1)) / 100);

/** `deploy --canary`: see docs/canary.md. Percentages become numbers (10% -> 10, error rates -> 0.01). */
export const canarySchema = z
  .strictObject({
    steps: z
      .array(canaryStep)
      .min(1, { message: 'a canary needs at least one step, such as [10%, 50%]' })
      .refine((steps) => steps.every((p, i) => i === 0 || p > steps[i - 1]!), { message: 'canary steps must grow, such as [10%, 50%]' })
      .default([10, 50])
      .describe('Shares of the traffic the new version takes, one step after another, before it takes all of it.'),
    interval: duration.default(120_000).describe('How long each step lasts before it is judged and promoted.'),
    max_error_rate: errorRate
      .default(0.01)
      .describe('How much higher the new version\'s error rate (5xx, connection and response errors over requests) may be than the old one\'s, in percentage points.'),
    max_response_time: duration
      .optional()
      .describe('Bound on the new version\'s average response time as HAProxy measures it (its last 1024 responses); HAProxy gives no percentiles.'),
    max_p99: duration
      .optional()
      .describe('Bound on the new version\'s 99th percentile response time: more than 1 % of its responses in a step slower than this aborts the canary (counted by HAProxy per response).'),
    min_requests: z.int().min(1).default(20).describe('Requests the new version must have answered in a step before it is judged.'),
    judge_timeout: duration
      .optional()
      .describe('How long a step may wait past its interval for min_requests (default: one interval); then the canary is aborted, never promoted blind.'),
  })
  .describe('Canary deploys (`gangway deploy --canary`): the new version takes a share of the traffic step by step, judged against the old one.');

export const dockerSchema = z
  .strictObject({
    install: z.boolean().default(true).describe('Let `gangway setup` install Debian\'s docker.io where Docker is missing (root or passwordless sudo).'),
    insecure_registries: z
      .array(z.string().regex(/^[A-Za-z0-9.-]+(:\d+)?$/, { message: 'expected host or host:port' }))
      .default([])
      .describe('Registries the engine may use over plain HTTP; written to /etc/docker/daemon.json when gangway installs or starts the engine.'),
  })
  .describe('The Docker engine on the hosts, as `gangway setup` installs and starts it.');

export const configSchema = z
  .strictObject({
    service: name.describe('Service name; containers are <service>-<role>-<version>, or <service>-<role>-<destination>-<version> under -d.'),
    image: z.string().min(1).describe('Image repository, e.g. registry.example.com/acme/hello.'),
    registry: z
      .strictObject({
        server: z.string().min(1),
        username: z.string().min(1).optional(),
        password: z.string().min(1).optional().describe('Use ${VAR} to read it from the environment or .gangway/secrets.'),
      })
      .optional()
      .describe('Registry to push to and pull from.'),
    servers: z
      .record(name, roleSchema)
      .refine((r) => Object.keys(r).length > 0, { message: 'servers needs at least one role' })
      .meta({ minProperties: 1 })
      .describe('Roles by name; the first is the primary role unless primary_role says otherwise.'),
    primary_role: name.optional().describe('The role that is proxied and deployed first (default: the first role).'),
    hosts: z.record(hostName, hostSchema).default({}).describe('Optional connection details by host name.'),
    ssh: sshSchema.prefault({}),
    proxy: proxySchema.prefault({}),
    uptests: z
      .strictObject({
        path: z.string().min(1).default('uptests').describe('Folder inside the image; uptests/<role>/* run with args <host> <port>.'),
        timeout: duration.default(60_000),
        parallel: z.boolean().default(true).describe('Run a role\'s uptests at once; false runs them one after another in name order.'),
      })
      .prefault({}),
    env: z
      .strictObject({
        clear: envMap.default({}),
        secret: z
          .array(envName)
          .default([])
          .describe('Names of secret variables, read from the environment or .gangway/secrets; never printed.'),
      })
      .prefault({}),
    volumes: z
      .array(z.string().regex(/^[^:\s]+:\/[^:\s]*(?::(ro|rw))?$/, { message: 'expected "source:/path/in/container" with an optional ":ro"' }))
      .default([])
      .describe('Mounts of every app container, docker -v style: a named volume or an absolute host path, then the container path.'),
    build: z
      .strictObject({
        context: z.string().default('.'),
        dockerfile: z.string().default('Dockerfile'),
        args: z.record(z.string(), z.string()).default({}),
        target: z.string().optional(),
      })
      .optional(),
    deploy_timeout: duration.default(30_000).describe('How long a new container may take to become healthy.'),
    drain_timeout: duration.default(30_000).describe('How long to wait for in-flight requests before stopping the old container.'),
    pull_timeout: duration.default(300_000).describe('How long a host may take to pull the image; a registry that never answers fails the deploy here, before any host changes.'),
    retain: z.int().min(0).default(5).describe('Old versions kept on each host for rollbacks.'),
    boot: z
      .strictObject({
        limit: bootLimit.default({ percent: 100 }),
        wait: duration.default(0).describe('Pause between batches of hosts.'),
      })
      .prefault({}),
    docker: dockerSchema.prefault({}),
    accessories: z
      .record(name, accessorySchema)
      .default({})
      .describe('Accessories by name: container <service>-<name>, reachable on the app network as <name>.'),
    canary: canarySchema.optional(),
    verify: verifySchema.optional().describe('Checks of the hosts\' real state for `gangway verify`, per role and per host.'),
  })
  .describe('gangway.yml: how to ship one service to its hosts.');

export type Config = z.output<typeof configSchema>;
export type ProxyConfig = Config['proxy'];
/** Own certificate: the names of the two secrets; undefined for ACME or no TLS. */
export type OwnCertificateConfig = Exclude<ProxyConfig['ssl'], boolean>;

export const sslOn = (proxy: Pick<ProxyConfig, 'ssl'>): boolean => proxy.ssl !== false;
/** The host port of the HTTPS listener: the configured one, else 443 when TLS is on. */
export function httpsPortOf(proxy: Pick<ProxyConfig, 'ssl' | 'https_port'>): number | undefined {
  return proxy.https_port ?? (sslOn(proxy) ? DEFAULT_HTTPS_PORT : undefined);
}
export type ConfigInput = z.input<typeof configSchema>;
export type RoleConfig = z.output<typeof roleSchema>;
export type HostConfig = z.output<typeof hostSchema>;
export type AccessoryConfig = z.output<typeof accessorySchema>;
export type DockerConfig = z.output<typeof dockerSchema>;
export type CanaryConfig = z.output<typeof canarySchema>;
