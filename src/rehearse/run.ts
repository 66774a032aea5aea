// `gangway rehearse`: before production is touched, deploy the candidate twice on throwaway
// sandbox hosts shaped like the config's roles — A: bare hosts, setup + deploy (the full
// deployment); B: hosts set up at today's version, then the candidate as an upgrade — verify both
// and prove they end in the same state.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { parse, stringify } from 'yaml';
import { pullIfMissing, pushImage } from '../docker/images.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { deepMerge } from '../config/merge.js';
import { GangwayError, messageOf, operationError } from '../errors.js';
import { Events, type GangwayEvent } from '../events/events.js';
import { registryAuth } from '../deploy/image.js';
import { liveVersionOf } from '../deploy/plan.js';
import { runDeploy, type DeployAction } from '../deploy/run.js';
import { observeForStatus } from '../deploy/status.js';
import { connectAll } from '../fleet/connect.js';
import { openSession, primaryHostOf, primaryRoleOf, proxyTarget, type Session } from '../fleet/session.js';
import { prepareForSetup } from '../provision/setup.js';
import { parseImageRef, repositoryName } from '../registry/reference.js';
import { sandboxDown, sandboxUp } from '../sandbox/index.js';
import type { SandboxInfo } from '../sandbox/types.js';
import { verifyHosts, verifySpecFromConfig } from '../verify/index.js';
import { diffSnapshots, type Difference } from './diff.js';
import { snapshotHost, type HostSnapshot } from './snapshot.js';

export interface RehearseOptions {
  version: string;
  /** Today's version; default: what the live hosts' primary role serves. */
  from?: string;
  /** Leave both sandboxes running (their configs are printed). */
  keep?: boolean;
}

export interface SideOutcome {
  /** fresh | upgrade */
  name: string;
  configFile: string;
  failure?: GangwayError;
  verifyFailures: string[];
  snapshots: HostSnapshot[];
}

export interface RehearseOutcome {
  version: string;
  from: string;
  fresh: SideOutcome;
  upgrade: SideOutcome;
  differences: Difference[];
  ok: boolean;
}

/** Today's version as the live hosts tell it: the primary role on the primary host. */
export async function currentVersion(s: Session): Promise<string> {
  const name = primaryHostOf(s);
  const host = (await connectAll(s, [name])).get(name)!;
  const live = liveVersionOf(await observeForStatus(s, host), primaryRoleOf(s));
  if (!live) throw operationError(`${name} serves no version of ${s.loaded.config.service} yet`, { host: name, step: 'rehearse', hint: 'name today\'s version with --from VERSION' });
  return live;
}

/** Production host names (roles order) -> sandbox host names vm1..vmN. */
export function hostMapping(loaded: Pick<LoadedConfig, 'hostTargets'>): Map<string, string> {
  return new Map(loaded.hostTargets.map((t, i) => [t.name, `vm${i + 1}`]));
}

/**
 * Pure: the config as the user wrote it (every file merged, `${VAR}`s still in place), pointed at
 * a sandbox: hosts renamed, SSH to the sandbox, images from the sandbox registry.
 */
export function rehearsalConfig(raw: Record<string, unknown>, mapping: Map<string, string>, info: SandboxInfo, appImage: string, images: Map<string, string>): Record<string, unknown> {
  const rename = (h: string) => mapping.get(h) ?? h;
  const out: Record<string, unknown> = structuredClone(raw);
  const servers = out.servers as Record<string, { hosts: string[] }>;
  for (const role of Object.values(servers)) role.hosts = role.hosts.map(rename);
  out.hosts = Object.fromEntries(info.hosts.map((h) => [h.name, { address: h.address, port: h.sshPort }]));
  out.ssh = { ...((out.ssh as object | undefined) ?? {}), user: 'root', identity: info.keyPath, known_hosts: info.knownHostsPath, trust_on_first_use: false, config: false, proxy: false };
  out.image = appImage;
  out.registry = { server: info.registry.name };
  out.proxy = { ...((out.proxy as object | undefined) ?? {}), image: info.images.proxy, bind: '' };
  out.docker = { ...((out.docker as object | undefined) ?? {}), insecure_registries: [info.registry.name] };
  const verify = out.verify as { hosts?: Record<string, unknown> } | undefined;
  if (verify?.hosts) verify.hosts = Object.fromEntries(Object.entries(verify.hosts).map(([h, v]) => [rename(h), v]));
  const accessories = out.accessories as Record<string, { host?: string; hosts?: string[]; image?: string }> | undefined;
  for (const acc of Object.values(accessories ?? {})) {
    if (acc.host) acc.host = rename(acc.host);
    if (acc.hosts) acc.hosts = acc.hosts.map(rename);
    if (acc.image && images.has(acc.image)) acc.image = images.get(acc.image)!;
  }
  return out;
}

/** Every config file merged as written (before interpolation and validation). */
async function rawConfig(loaded: LoadedConfig): Promise<Record<string, unknown>> {
  let merged: unknown = {};
  for (const file of loaded.files) merged = deepMerge(merged, parse(await readFile(file, 'utf8')) ?? {});
  return merged as Record<string, unknown>;
}

/** Relays a side's events to the command's bus with the side in the host name ("fresh:vm1"). */
function sideEvents(parent: Events, side: string): Events {
  const child = new Events();
  child.on((e: GangwayEvent) => {
    const { ts: _ts, ...rest } = e;
    if (rest.type === 'done') return;
    parent.emit({ ...rest, host: rest.host ? `${side}:${rest.host}` : side } as never);
  });
  return child;
}

/** The image on the runner (pulled from its registry when missing), then in each sandbox registry. */
export async function copyImage(docker: Docker, ref: string, auth: ReturnType<typeof registryAuth>, sandboxes: SandboxInfo[]): Promise<string> {
  await pullIfMissing(docker, ref, auth ? { auth } : {});
  const parsed = parseImageRef(ref);
  const repo = repositoryName({ repository: parsed.repository });
  const tag = parsed.tag ?? 'latest';
  for (const info of sandboxes) {
    const via = `127.0.0.1:${info.registry.localPort}/${repo}`;
    await docker.getImage(ref).tag({ repo: via, tag });
    await pushImage(docker, { repository: via, tag });
    await docker.getImage(`${via}:${tag}`).remove({ noprune: true }).catch(() => {});
  }
  return `${sandboxes[0]!.registry.name}/${repo}:${tag}`;
}

/**
 * A side's config, for the user to reuse on the kept sandbox. With a destination, `-d` must find
 * its overlay to be that deployment: an empty one, the config holding its settings already.
 */
async function keepConfig(dir: string, text: string, destination: string | undefined): Promise<void> {
  await writeFile(join(dir, 'gangway.yml'), text);
  if (destination) await writeFile(join(dir, `gangway.${destination}.yml`), `# empty: gangway.yml holds ${destination}'s settings already\n`);
}

interface SideSetup {
  name: string;
  info: SandboxInfo;
  dir: string;
  steps: Array<{ action: DeployAction; version: string }>;
  /** Write the side's config to its folder, for the user to reuse on the kept sandbox. */
  keep: boolean;
}

/**
 * One side's session: its config is loaded from memory, as a command loads its file (same
 * interpolation, validation and warnings), and its hosts are the sandbox's. Nothing is written
 * for the rehearsal itself.
 */
async function sideSession(production: Session, side: SideSetup, configFile: string, text: string, events: Events, env: NodeJS.ProcessEnv): Promise<Session> {
  // The same secrets as production, by name, so the config interpolates the same way.
  const read = await loadConfig({ file: configFile, text, cwd: side.dir, env: { ...env, ...production.loaded.secrets }, redactor: events });
  for (const warning of read.warnings) events.log(warning, { level: 'warn' });
  // The text holds the destination's overlay already (rawConfig merged every file); the side is
  // still that destination's deployment, so its names, labels and keys are the ones rehearsed.
  const { destination } = production.loaded;
  const loaded = destination ? { ...read, destination } : read;
  return openSession(loaded, { command: 'rehearse', events });
}

async function runSide(production: Session, side: SideSetup, raw: Record<string, unknown>, images: Map<string, string>, env: NodeJS.ProcessEnv): Promise<{ outcome: SideOutcome; session?: Session }> {
  const configFile = join(side.dir, 'gangway.yml');
  const appImage = `${side.info.registry.name}/${repositoryName({ repository: parseImageRef(production.loaded.config.image).repository })}`;
  const text = stringify(rehearsalConfig(raw, hostMapping(production.loaded), side.info, appImage, images));
  if (side.keep) await keepConfig(side.dir, text, production.loaded.destination);
  const events = sideEvents(production.events, side.name);
  const outcome: SideOutcome = { name: side.name, configFile, verifyFailures: [], snapshots: [] };
  let session: Session;
  try {
    session = await sideSession(production, side, configFile, text, events, env);
  } catch (err) {
    outcome.failure = err instanceof GangwayError ? err : operationError(messageOf(err), { step: 'rehearse' });
    return { outcome };
  }
  try {
    for (const step of side.steps) {
      // Exactly what `gangway setup` does: Docker installed where missing, accessories booted.
      if (step.action === 'setup') await prepareForSetup(session);
      await runDeploy(session, { version: step.version, action: step.action, message: `rehearse ${side.name}` });
    }
  } catch (err) {
    outcome.failure = err instanceof GangwayError ? err : operationError(messageOf(err), { step: 'rehearse' });
  }
  return { outcome, session };
}

async function verifyAndSnapshot(session: Session, outcome: SideOutcome): Promise<void> {
  const { spec } = await verifySpecFromConfig(session.loaded, session.loaded.baseDir);
  const report = await verifyHosts({ loaded: session.loaded, spec, host: (name) => session.pool.get(name) });
  outcome.verifyFailures = report.results.filter((r) => r.status !== 'pass').map((r) => `[${r.host}] ${r.title}: ${r.message ?? r.expectations.filter((e) => !e.ok).map((e) => `${e.attribute} expected ${e.expected}, got ${e.observed}`).join('; ')}`);
  // Files the verify spec names are part of the state to compare.
  const extraPaths = [...Object.values(spec.roles), ...Object.values(spec.hosts)].flat().filter((c) => c.type === 'file' || c.type === 'directory').map((c) => c.subject);
  const proxied = new Set(session.loaded.roles.filter((r) => r.proxied).flatMap((r) => r.hosts));
  outcome.snapshots = await Promise.all(
    session.loaded.hostTargets.map(async (t) => {
      const host = await session.pool.get(t.name);
      return snapshotHost(host, { service: session.loaded.config.service, ...(proxied.has(t.name) ? { proxy: proxyTarget(session, host) } : {}), extraPaths });
    }),
  );
}

/** `env` is the command's environment: the sides' configs interpolate from it, as production's did. */
export async function rehearse(production: Session, opts: RehearseOptions, env: NodeJS.ProcessEnv): Promise<RehearseOutcome> {
  const { events } = production;
  const from = opts.from ?? (await currentVersion(production));
  const hostCount = production.loaded.hostTargets.length;
  const stamp = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  const ids = { fresh: `rh-${stamp}-a`, upgrade: `rh-${stamp}-b` };
  const dirs = { fresh: await mkdtemp(join(tmpdir(), 'gangway-rehearse-a-')), upgrade: await mkdtemp(join(tmpdir(), 'gangway-rehearse-b-')) };
  const sessions: Session[] = [];
  events.log(`rehearsing ${production.loaded.config.image}:${opts.version}: fresh (bare hosts, setup + deploy) and upgrade (from ${from}), ${hostCount} host(s) each`);
  try {
    events.step('sandboxes', 'start', { message: `${ids.fresh}, ${ids.upgrade}` });
    const [fresh, upgrade] = await Promise.all([
      sandboxUp({ id: ids.fresh, hosts: hostCount, outDir: dirs.fresh, registryPort: 0, flavour: 'bare-host' }, sideEvents(events, 'fresh')),
      sandboxUp({ id: ids.upgrade, hosts: hostCount, outDir: dirs.upgrade, registryPort: 0 }, sideEvents(events, 'upgrade')),
    ]);
    events.step('sandboxes', 'done');

    const docker = new Docker();
    const auth = registryAuth(production.loaded.config);
    const images = new Map<string, string>();
    const wanted = [...new Set([opts.version, from].map((v) => `${production.loaded.config.image}:${v}`))];
    for (const acc of Object.values((production.loaded.config as { accessories?: Record<string, { image: string }> }).accessories ?? {})) wanted.push(acc.image);
    for (const ref of wanted) {
      events.step('copy image', 'start', { message: ref });
      images.set(ref, await copyImage(docker, ref, auth, [fresh, upgrade]));
      events.step('copy image', 'done', { message: ref });
    }

    const raw = await rawConfig(production.loaded);
    const [a, b] = await Promise.all([
      runSide(production, { name: 'fresh', info: fresh, dir: dirs.fresh, steps: [{ action: 'setup', version: opts.version }], keep: !!opts.keep }, raw, images, env),
      runSide(production, { name: 'upgrade', info: upgrade, dir: dirs.upgrade, steps: [{ action: 'setup', version: from }, { action: 'deploy', version: opts.version }], keep: !!opts.keep }, raw, images, env),
    ]);
    for (const side of [a, b]) if (side.session) sessions.push(side.session);
    await Promise.all([a, b].map(async (side) => {
      if (side.session && !side.outcome.failure) await verifyAndSnapshot(side.session, side.outcome);
    }));
    const differences = !a.outcome.failure && !b.outcome.failure ? diffSnapshots(a.outcome.snapshots, b.outcome.snapshots) : [];
    const ok = !a.outcome.failure && !b.outcome.failure && a.outcome.verifyFailures.length === 0 && b.outcome.verifyFailures.length === 0 && differences.length === 0;
    return { version: opts.version, from, fresh: a.outcome, upgrade: b.outcome, differences, ok };
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
    if (opts.keep) {
      const withD = production.loaded.destination ? ` -d ${production.loaded.destination}` : '';
      events.log(`sandboxes kept: ${ids.fresh} (-c ${dirs.fresh}/gangway.yml${withD}), ${ids.upgrade} (-c ${dirs.upgrade}/gangway.yml${withD}); remove them with: GANGWAY_SANDBOX_ID=<id> gangway sandbox down`);
    } else {
      await Promise.all([sandboxDown({ id: ids.fresh }, new Events()), sandboxDown({ id: ids.upgrade }, new Events())]);
      await Promise.all(Object.values(dirs).map((d) => rm(d, { recursive: true, force: true })));
    }
  }
}
