// The gangway.yml schema. Durations and percentages are parsed here, so the rest of the code
// sees numbers with units in their meaning (milliseconds, fractions).
import { z } from 'zod';

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "30s" -> 30000. Throws on anything else; the schema reports it with its position. */
export function parseDurationMs(text: string): number {
  const m = DURATION_RE.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text}`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

export const duration = z
  .string()
  .regex(DURATION_RE, { message: 'expected a duration such as 500ms, 30s, 2m or 1h' })
  .transform(parseDurationMs)
  .describe('A duration: a number followed by ms, s, m or h (e.g. 30s, 2m).');

/** "25%" -> { percent: 25 }, 2 -> { count: 2 } */
export const bootLimit = z
  .union([
    z.int().positive(),
    z
      .string()
      .regex(/^(100|[1-9]?\d)(\.\d+)?%$/, { message: 'expected a percentage such as 25% or a host count such as 2' })
      .transform((s) => ({ percent: Number(s.slice(0, -1)) })),
  ])
  .transform((v) => (typeof v === 'number' ? { count: v } : v))
  .describe('How many hosts of a role boot at once: a count (2) or a percentage of the role (25%).');

const name = z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, { message: 'expected lower-case letters, digits, ".", "_" or "-"' });
const hostName = z.string().min(1).regex(/^[A-Za-z0-9_.:-]+$/, { message: 'expected a host name or address' });

export const roleSchema = z.strictObject({
  hosts: z.array(hostName).min(1, { message: 'a role needs at least one host' }),
  cmd: z.array(z.string()).optional().describe('Command that overrides the image CMD for this role.'),
  proxy: z.boolean().optional().describe('Put this role behind the proxy (default: only the primary role).'),
  env: z.strictObject({ clear: z.record(z.string(), z.string()).default({}) }).optional(),
});

export const hostSchema = z.strictObject({
  address: z.string().min(1).optional().describe('Address to connect to (default: the host name).'),
  port: z.int().min(1).max(65535).optional(),
  user: z.string().min(1).optional(),
  identity: z.string().min(1).optional(),
});

export const sshSchema = z.strictObject({
  user: z.string().min(1).default('root'),
  port: z.int().min(1).max(65535).default(22),
  identity: z.string().min(1).optional().describe('Private key file; ~ is expanded.'),
  known_hosts: z.string().min(1).default('~/.ssh/known_hosts'),
  trust_on_first_use: z.boolean().default(false).describe('Accept and record unknown host keys (never a changed one).'),
  connect_timeout: duration.default(10_000),
  keepalive_interval: duration.default(15_000),
});

export const healthcheckSchema = z.strictObject({
  path: z.string().startsWith('/').default('/up'),
  interval: duration.default(1000),
  timeout: duration.default(5000),
});

export const proxySchema = z.strictObject({
  app_port: z.int().min(1).max(65535).default(80),
  image: z.string().min(1).default('haproxy:3.2'),
  http_port: z.int().min(1).max(65535).default(80).describe('Port the proxy publishes on the host.'),
  https_port: z.int().min(1).max(65535).optional(),
  healthcheck: healthcheckSchema.prefault({}),
});

export const configSchema = z.strictObject({
  service: name.describe('Service name; containers are <service>-<role>-<version>.'),
  image: z.string().min(1).describe('Image repository, e.g. registry.example.com/acme/hello.'),
  registry: z
    .strictObject({
      server: z.string().min(1),
      username: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
    })
    .optional(),
  servers: z
    .record(name, roleSchema)
    .refine((r) => Object.keys(r).length > 0, { message: 'servers needs at least one role' }),
  primary_role: name.optional(),
  hosts: z.record(hostName, hostSchema).default({}),
  ssh: sshSchema.prefault({}),
  proxy: proxySchema.prefault({}),
  uptests: z.strictObject({ path: z.string().min(1).default('uptests'), timeout: duration.default(60_000) }).prefault({}),
  env: z
    .strictObject({
      clear: z.record(z.string(), z.string()).default({}),
      secret: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default([]),
    })
    .prefault({}),
  build: z
    .strictObject({
      context: z.string().default('.'),
      dockerfile: z.string().default('Dockerfile'),
      args: z.record(z.string(), z.string()).default({}),
      target: z.string().optional(),
    })
    .optional(),
  deploy_timeout: duration.default(30_000),
  drain_timeout: duration.default(30_000),
  retain: z.int().min(0).default(5),
  boot: z.strictObject({ limit: bootLimit.default({ percent: 100 }), wait: duration.default(0) }).prefault({}),
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type RoleConfig = z.output<typeof roleSchema>;
export type HostConfig = z.output<typeof hostSchema>;
