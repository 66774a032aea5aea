// Runs `gangway test`: the app's image started through gangway/testing (so its run label
// guarantees cleanup), gated on the deploy's health checks, then each role's uptests through
// the deploy's own runner (src/gates/uptests.ts), never a copy of it.
import type Docker from 'dockerode';
import { mergeEnv } from '../app/container.js';
import { messageOf, operationError, usageError } from '../errors.js';
import type { Events } from '../events/events.js';
import { describeUptestResults, listUptests, runUptests, type UptestResult } from '../gates/uptests.js';
import type { Host } from '../hosts/host.js';
import { Environment, type TeardownReport } from '../testing/environment.js';
import { currentOwner, runLabels } from '../testing/labels.js';
import { planAppTest, type AppTestInput } from './plan.js';

/** The plan's input less what the run finds out itself (the image's HEALTHCHECK, the roles with uptests). */
export interface AppTestOptions extends Omit<AppTestInput, 'imageHasHealthcheck' | 'rolesWithUptests'> {
  /** Where the containers run: the local engine in practice. */
  host: Host;
  uptestsPath: string;
  uptestsTimeoutMs: number;
  /** uptests.parallel, passed on like a deploy does. */
  uptestsParallel?: boolean;
  events: Events;
  /** Keep a failed run's containers (default: GANGWAY_KEEP=1). */
  keepOnFailure?: boolean;
}

export interface RoleUptestOutcome {
  role: string;
  targetName: string;
  results: UptestResult[];
  passed: boolean;
  message: string;
  details: string[];
}

export interface AppTestOutcome {
  runId: string;
  image: string;
  passed: boolean;
  roles: RoleUptestOutcome[];
  skipped: Array<{ role: string; reason: string }>;
  teardown?: TeardownReport;
}

export function imageHasHealthcheck(info: Pick<Docker.ImageInspectInfo, 'Config'>): boolean {
  const test = (info.Config as { Healthcheck?: { Test?: string[] } } | undefined)?.Healthcheck?.Test;
  return !!test && test.length > 0 && test[0] !== 'NONE';
}

async function inspectImage(docker: Docker, image: string): Promise<Docker.ImageInspectInfo> {
  try {
    return await docker.getImage(image).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) {
      throw usageError(`image ${image} is not on the local engine`, {
        step: 'test',
        hint: 'build it first (`gangway build --version V`), or name another one with --image REF',
      });
    }
    throw operationError(`could not inspect ${image}: ${messageOf(err)}`, { step: 'test', cause: err });
  }
}

/**
 * Starts the roles under test, waits for their health, runs every role's uptests, and removes
 * everything (uptest containers included: they carry the run's label). Throws when the app never
 * gets healthy; uptest failures are results, so every uptest runs and is reported.
 */
export async function runAppTest(o: AppTestOptions): Promise<AppTestOutcome> {
  const docker = await o.host.docker();
  const imageInfo = await inspectImage(docker, o.image);
  // A clear and a secret variable of the same name is a config error, as in a deploy.
  for (const role of o.roles) mergeEnv(role.env, { ...o.envSecret });

  const env = new Environment({ docker, events: o.events, ...(o.keepOnFailure !== undefined ? { keepOnFailure: o.keepOnFailure } : {}) });
  const labels = runLabels(currentOwner(env.runId), 'uptest');
  const outcome: AppTestOutcome = { runId: env.runId, image: o.image, passed: false, roles: [], skipped: [] };
  try {
    const primary = o.roles.find((r) => r.primary) ?? o.roles[0];
    const rolesWithUptests = new Set<string>();
    for (const role of o.roles) {
      if (role === primary) continue;
      const listing = await listUptests(o.host, o.image, o.uptestsPath, role.name, labels);
      if (listing.names.length > 0) rolesWithUptests.add(role.name);
    }
    const plan = planAppTest({
      service: o.service,
      roles: o.roles,
      image: o.image,
      appPort: o.appPort,
      healthcheckPath: o.healthcheckPath,
      healthTimeoutMs: o.healthTimeoutMs,
      imageHasHealthcheck: imageHasHealthcheck(imageInfo),
      envSecret: o.envSecret,
      rolesWithUptests,
    });
    outcome.skipped = plan.skipped;
    for (const s of plan.skipped) o.events.log(`role ${s.role} not started: ${s.reason}`, { role: s.role, step: 'test' });

    const startedAt = Date.now();
    o.events.step('health', 'start', { message: `${plan.targets.map((t) => t.targetName).join(', ')} from ${o.image}` });
    try {
      await env.ensure(...plan.targets.map((t) => t.definition));
    } catch (err) {
      o.events.step('health', 'fail', { durationMs: Date.now() - startedAt });
      throw err;
    }
    o.events.step('health', 'done', { durationMs: Date.now() - startedAt, message: 'healthy' });

    const network = env.nameOf(plan.network);
    for (const target of plan.targets) {
      const results = await runUptests({
        host: o.host,
        image: o.image,
        role: target.role,
        uptestsPath: o.uptestsPath,
        targetName: target.targetName,
        appPort: o.appPort,
        network,
        env: target.env,
        timeoutMs: o.uptestsTimeoutMs,
        ...(o.uptestsParallel !== undefined ? { parallel: o.uptestsParallel } : {}),
        labels,
        events: o.events,
      });
      for (const r of results.filter((x) => !x.passed)) {
        for (const line of r.output.split('\n').filter((l) => l.trim() !== '')) {
          o.events.log(`${r.name}| ${line}`, { level: 'error', role: target.role, step: `uptest ${r.name}` });
        }
      }
      const summary = describeUptestResults(results);
      outcome.roles.push({ role: target.role, targetName: target.targetName, results, ...summary });
    }
    outcome.passed = outcome.roles.every((r) => r.passed);
    if (!outcome.passed) env.markFailed();
  } catch (err) {
    env.markFailed();
    const report = await env.teardown().catch(() => undefined);
    if (report?.kept && err instanceof Error) err.message += `\n${report.keptNotice.join('\n')}`;
    throw err;
  }
  outcome.teardown = await env.teardown();
  return outcome;
}
