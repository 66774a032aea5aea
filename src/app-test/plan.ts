// Pure: what `gangway test` starts for an app's config, as gangway/testing definitions. One
// container per role under test, on one throwaway network, with the env, cmd and app port a
// deploy would give it, and a wait that is the deploy's health gate.
import type { ResolvedRole } from '../config/resolve.js';
import { container, network, type ContainerDefinition, type NetworkDefinition } from '../testing/definitions.js';
import { wait } from '../testing/waits/wait.js';
import type { WaitStrategy } from '../testing/waits/wait-strategy.js';

export interface AppTestInput {
  service: string;
  /** Primary role first (LoadedConfig.roles). */
  roles: readonly ResolvedRole[];
  image: string;
  appPort: number;
  /** proxy.healthcheck.path: what the proxy asks a proxied role before it gets traffic. */
  healthcheckPath: string;
  /** deploy_timeout: how long a container may take to become healthy. */
  healthTimeoutMs: number;
  /** Whether the image declares a HEALTHCHECK (then Docker's verdict is waited for too). */
  imageHasHealthcheck: boolean;
  /** Secret env values by name; merged over each role's clear env like a deploy does. */
  envSecret: Readonly<Record<string, string>>;
  /** Roles other than the primary are started only when they have uptests to run. */
  rolesWithUptests: ReadonlySet<string>;
}

export interface AppTestTarget {
  role: string;
  primary: boolean;
  /** Its alias on the network: the uptests' first argument. */
  targetName: string;
  definition: ContainerDefinition;
  /** The env the container gets, which the role's uptests get too. */
  env: Record<string, string>;
}

export interface AppTestPlan {
  network: NetworkDefinition;
  targets: AppTestTarget[];
  /** Roles left out, with why (reported, not silently skipped). */
  skipped: Array<{ role: string; reason: string }>;
}

const APP_TEST_NETWORK = 'app';

/** Definition names are DNS aliases: lowercase letters, digits, "-" and "_", at most 63. */
export function appTestTargetName(service: string, role: string): string {
  const raw = `${service}-${role}`.toLowerCase().replace(/[^a-z0-9_-]/g, '-').replace(/^[^a-z0-9]+/, '');
  return (raw || 'app').slice(0, 63);
}

/** The deploy's health gate as a wait: HTTP on the healthcheck path for a proxied role, plus HEALTHCHECK. */
export function healthWaitFor(proxied: boolean, input: Pick<AppTestInput, 'appPort' | 'healthcheckPath' | 'healthTimeoutMs' | 'imageHasHealthcheck'>): WaitStrategy | undefined {
  const waits: WaitStrategy[] = [];
  if (proxied) waits.push(wait.forHttp(input.healthcheckPath, { port: input.appPort, timeoutMs: input.healthTimeoutMs }));
  if (input.imageHasHealthcheck) waits.push(wait.forHealthy({ timeoutMs: input.healthTimeoutMs }));
  if (waits.length === 0) return undefined;
  return waits.length === 1 ? waits[0] : wait.all(waits, { timeoutMs: input.healthTimeoutMs });
}

export function planAppTest(input: AppTestInput): AppTestPlan {
  const net = network(APP_TEST_NETWORK);
  const targets: AppTestTarget[] = [];
  const skipped: AppTestPlan['skipped'] = [];
  input.roles.forEach((role, index) => {
    const primary = role.primary || (index === 0 && !input.roles.some((r) => r.primary));
    if (!primary && !input.rolesWithUptests.has(role.name)) {
      skipped.push({ role: role.name, reason: 'no uptests in the image' });
      return;
    }
    const env = { ...role.env, ...input.envSecret };
    const targetName = appTestTargetName(input.service, role.name);
    const healthWait = healthWaitFor(role.proxied, input);
    const definition = container(targetName, {
      image: input.image,
      ...(role.cmd ? { cmd: role.cmd } : {}),
      env,
      // Published on 127.0.0.1 only for the HTTP health wait; uptests use the network alias.
      ...(role.proxied ? { ports: [input.appPort] } : {}),
      networks: [net],
      labels: { 'gangway.test.role': role.name },
      ...(healthWait ? { wait: healthWait } : {}),
    });
    targets.push({ role: role.name, primary, targetName, definition, env });
  });
  return { network: net, targets, skipped };
}
