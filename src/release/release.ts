// `gangway release` as a service: refs from the tag rules, the registry's current tags, the push
// plan (never backwards), then either the printed operations (--dry-run) or their execution.
import type Docker from 'dockerode';
import { operationError, usageError } from '../errors.js';
import type { Events } from '../events/events.js';
import { RegistryClient } from '../registry/client.js';
import { apiRepository, parseImageRef, sameRegistry } from '../registry/reference.js';
import { executeOperations, localImageId, type EngineAuth } from './engine.js';
import { describeOperation, describeOutcome, releaseOperations, type ReleaseOperation, type ReleaseOutcome } from './operations.js';
import { planPushes, shortDigest, type PushPlan, type RepositoryState } from './plan.js';
import type { RegistrySettings } from './release-config.js';
import { releaseTargets, type ReleaseTarget, type TagRuleInput } from './tags.js';

export interface ReleaseRequest extends TagRuleInput {
  force?: boolean;
  dryRun?: boolean;
  /** The config's registry login; used only for refs on that registry. */
  login?: RegistrySettings;
  registryTimeoutMs?: number;
  /** Extra registries spoken to over plain HTTP. */
  insecureRegistries?: string[];
}

export interface ReleaseReport {
  targets: ReleaseTarget[];
  plan: PushPlan;
  operations: ReleaseOperation[];
  /** Absent for --dry-run. */
  outcome?: ReleaseOutcome;
}

/** The login to hand to a registry (ours or the engine's), only when it is the configured one. */
export function loginFor(registry: string, login: RegistrySettings | undefined): { username: string; password: string } | undefined {
  if (!login?.username || login.password === undefined || !sameRegistry(registry, login.server)) return undefined;
  return { username: login.username, password: login.password };
}

export function engineAuthFor(registry: string, login: RegistrySettings | undefined): EngineAuth | undefined {
  const creds = loginFor(registry, login);
  return creds && login ? { ...creds, serveraddress: login.server } : undefined;
}

export async function runRelease(req: ReleaseRequest, deps: { docker: Docker; events: Events }): Promise<ReleaseReport> {
  const { docker, events } = deps;
  const { targets, notes } = releaseTargets(req);
  for (const note of notes) events.log(note, { level: 'warn' });

  const sourceDigests = await inspectSources(docker, targets, req.version);
  const remote = await readRemoteState(targets, req, events);
  const plan = planPushes({
    targets,
    version: req.version,
    remote,
    sourceDigests,
    force: req.force ?? false,
    prereleaseMovesAliases: req.prereleaseMovesAliases ?? false,
  });
  for (const d of plan.decisions) {
    if (d.action === 'hold') events.log(d.reason!, { level: 'warn', step: 'plan' });
    else if (d.action === 'skip') events.log(`${d.reason}: not pushed again`, { step: 'plan' });
    else if (d.reason) events.log(d.reason, { level: 'warn', step: 'plan' });
  }
  if (plan.refused.length) {
    throw operationError(`release ${req.version} refused: ${plan.refused.length === 1 ? 'a version tag' : 'version tags'} already hold another image; nothing was tagged or pushed`, {
      step: 'plan',
      details: plan.refused.map((d) => d.reason!),
      hint: 'release a new version, or pass --force to overwrite',
    });
  }

  const operations = releaseOperations(plan.decisions);
  if (req.dryRun) {
    for (const op of operations) events.log(describeOperation(op));
    events.result('release-plan', { version: req.version, operations: operations.map(describeOperation), decisions: plan.decisions.map(summaryOf) });
    return { targets, plan, operations };
  }

  const outcome = await executeOperations(docker, operations, { events, authFor: (registry) => engineAuthFor(registry, req.login) });
  events.result('release', {
    version: req.version,
    pushed: outcome.pushed,
    failed: outcome.failed ? { message: outcome.failed.message, operation: describeOperation(outcome.failed.op) } : undefined,
    notAttempted: outcome.notAttempted,
    decisions: plan.decisions.map(summaryOf),
  });
  if (outcome.failed) {
    throw operationError(`release ${req.version} incomplete: ${outcome.pushed.length} of ${operations.filter((o) => o.kind === 'push').length} tags pushed`, {
      step: 'push',
      details: describeOutcome(outcome),
      hint: 'fix the cause and run the same release again: tags already pushed with this image are skipped',
    });
  }
  return { targets, plan, operations, outcome };
}

function summaryOf(d: PushPlan['decisions'][number]): Record<string, unknown> {
  return { ref: d.target.ref, kind: d.target.kind, action: d.action, ...(d.reason ? { reason: d.reason } : {}) };
}

async function inspectSources(docker: Docker, targets: readonly ReleaseTarget[], version: string): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  const missing: string[] = [];
  for (const source of new Set(targets.map((t) => t.source))) {
    const id = await localImageId(docker, source);
    if (id) digests[source] = id;
    else missing.push(source);
  }
  if (missing.length) {
    // Input error: nothing has been touched yet.
    throw usageError(`image ${missing.join(', ')} not found in the local engine`, { hint: `build it first: gangway build --version ${version}` });
  }
  return digests;
}

async function readRemoteState(targets: readonly ReleaseTarget[], req: ReleaseRequest, events: Events): Promise<Record<string, RepositoryState>> {
  const clients = new Map<string, RegistryClient>();
  const clientFor = (registry: string) => {
    let c = clients.get(registry);
    if (!c) {
      const credentials = loginFor(registry, req.login);
      c = new RegistryClient({
        registry,
        ...(credentials ? { credentials } : {}),
        ...(req.registryTimeoutMs ? { timeoutMs: req.registryTimeoutMs } : {}),
        ...(req.insecureRegistries ? { insecureRegistries: req.insecureRegistries } : {}),
      });
      clients.set(registry, c);
    }
    return c;
  };
  const state: Record<string, RepositoryState> = {};
  for (const repository of new Set(targets.map((t) => t.repository))) {
    const started = Date.now();
    const first = targets.find((t) => t.repository === repository)!;
    const client = clientFor(first.registry);
    const path = apiRepository(parseImageRef(repository));
    events.step('registry', 'start', { message: `reading tags of ${repository}` });
    try {
      const tags = await client.listTags(path);
      const configDigests: Record<string, string | undefined> = {};
      for (const t of targets) {
        if (t.repository !== repository || t.kind !== 'version' || !tags.includes(t.tag)) continue;
        configDigests[t.tag] = (await client.manifest(path, t.tag))?.configDigest;
      }
      state[repository] = { tags, configDigests };
      const known = Object.entries(configDigests).map(([tag, d]) => `${tag}=${d ? shortDigest(d) : '?'}`);
      // --dry-run prints the operations and nothing else; the reads show only with --verbose.
      const summary = `${repository}: ${tags.length} tag(s)${known.length ? `, ${known.join(' ')}` : ''}`;
      if (req.dryRun) events.step('registry', 'start', { message: summary });
      else events.step('registry', 'done', { message: summary, durationMs: Date.now() - started });
    } catch (err) {
      events.step('registry', 'fail', { message: repository, durationMs: Date.now() - started });
      throw err;
    }
  }
  return state;
}
