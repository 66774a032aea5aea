// A test environment: the resources of a set of definitions in one run. Setup creates what
// each definition needs first and everything independent in parallel; teardown removes in
// reverse order. Every resource carries the run's labels, so nothing outlives the run.
import Docker from 'dockerode';
import { isNotFound, statusCodeOf } from '../docker/errors.js';
import { GangwayError, messageOf, operationError } from '../errors.js';
import type { Events } from './events.js';
import { type LiveRun, registerLiveRun, removeRun, sweepStale } from './cleanup.js';
import { buildContainerPlan, buildNetworkCreate, buildVolumeCreate } from './create-options.js';
import type { ContainerDefinition, Definition, NetworkDefinition, StartedContainer, VolumeDefinition } from './definitions.js';
import { RunEvents } from './docker-events.js';
import { type GraphNode, nodeKey, planGraph, runGraph } from './graph.js';
import { forgetImage, resolveImage } from './image.js';
import { currentOwner, manualCleanupCommands, newRunId, type RunOwner, resourceName } from './labels.js';
import { ContainerRuntime } from './started-container.js';
import { createContainer } from '../docker/containers.js';

export interface SetupOptions {
  /** Engine to use; default: the local one (DOCKER_HOST or /var/run/docker.sock). */
  docker?: Docker;
  /** Progress (image builds, starts, waits, keep notices) goes here. */
  events?: Events;
  /** Keep resources when the run failed, to look at them. Default: GANGWAY_KEEP=1. */
  keepOnFailure?: boolean;
  /** Remove resources of dead runs before the first setup of this process. Default: true. */
  sweepStale?: boolean;
}

export interface TeardownReport {
  runId: string;
  /** True when GANGWAY_KEEP kept the resources of a failed run. */
  kept: boolean;
  /** How to reach kept resources and remove them by hand. */
  keptNotice: string[];
  removed: { containers: number; networks: number; volumes: number };
}

type Created =
  | { kind: 'container'; runtime: ContainerRuntime }
  | { kind: 'volume'; name: string }
  | { kind: 'network'; name: string; id: string };

let staleSwept: Promise<unknown> | undefined;

export class Environment implements AsyncDisposable {
  readonly runId: string;
  readonly docker: Docker;
  private readonly owner: RunOwner;
  private readonly events?: Events;
  private readonly keepOnFailure: boolean;
  private readonly runEvents: RunEvents;
  /** Per node key: the promise of its creation (memoized: ensure() twice creates once). */
  private readonly creating = new Map<string, Promise<Created>>();
  private readonly created = new Map<string, Created>();
  private readonly nodes = new Map<string, GraphNode>();
  private failed = false;
  private tornDown?: Promise<TeardownReport>;
  private readonly unregister: () => void;

  constructor(private readonly options: SetupOptions = {}) {
    this.runId = newRunId();
    this.owner = currentOwner(this.runId);
    this.docker = options.docker ?? new Docker();
    this.events = options.events;
    this.keepOnFailure = options.keepOnFailure ?? process.env.GANGWAY_KEEP === '1';
    this.runEvents = new RunEvents(this.docker, this.runId);
    this.liveRun = { runId: this.runId, teardown: () => this.teardown() };
    this.unregister = registerLiveRun(this.liveRun);
  }

  private readonly liveRun: LiveRun;

  // docker-modem resolves its default socket lazily (a function returning a promise); the exit
  // path is synchronous, so the path is resolved here, before anything is created.
  private async resolveSocketPath(): Promise<void> {
    if (this.liveRun.socketPath) return;
    const socketPath = (this.docker.modem as { socketPath?: string | (() => Promise<string>) }).socketPath;
    this.liveRun.socketPath = typeof socketPath === 'function' ? await socketPath() : socketPath;
  }

  /**
   * Creates and starts `defs` and everything they depend on that this run has not made yet.
   * On failure the run is marked failed; teardown (or `await using`) removes what was made.
   */
  async ensure(...defs: Definition[]): Promise<void> {
    if (this.tornDown) throw operationError(`run ${this.runId} was already torn down`, { step: 'testing.setup' });
    const plan = planGraph(defs);
    for (const node of plan) {
      const key = nodeKey(node.def);
      const known = this.nodes.get(key);
      if (known && known.def !== node.def && known.def.options !== node.def.options) {
        throw operationError(`run ${this.runId} already has a different ${node.def.kind} named "${node.def.name}"`, { step: 'testing.setup' });
      }
      if (!known) this.nodes.set(key, node);
    }
    await this.resolveSocketPath();
    const sweep = this.sweepOnce();
    // Images are needed only by containers but depend on nothing: build/check them all now,
    // alongside the volumes and networks, not one by one as the graph reaches each container.
    for (const node of plan) if (node.def.kind === 'container') this.imageFor(node.def);
    try {
      await runGraph(plan, (n) => n.dependsOn, (n) => this.createNode(n).then(() => undefined));
      await sweep;
    } catch (err) {
      this.failed = true;
      throw err;
    }
  }

  /** The started container of a definition set up in this run. */
  container(def: ContainerDefinition): StartedContainer {
    const created = this.created.get(nodeKey(def));
    if (created?.kind !== 'container') {
      throw operationError(`container "${def.name}" is not set up in run ${this.runId}`, { step: 'testing.get', hint: 'pass it (or something that depends on it) to setup()/ensure()' });
    }
    return created.runtime;
  }

  /** Runs the `clean` hook of every started container that has one (between tests sharing the run). */
  async cleanAll(): Promise<void> {
    const runtimes = [...this.created.values()].flatMap((c) => (c.kind === 'container' && c.runtime.definition.options.clean ? [c.runtime] : []));
    await Promise.all(runtimes.map((r) => r.clean()));
  }

  /** Docker name of a volume or network of this run. */
  nameOf(def: VolumeDefinition | NetworkDefinition): string {
    return resourceName(this.runId, def.name);
  }

  /** The run failed (a test using it failed): with GANGWAY_KEEP=1, teardown keeps everything. */
  markFailed(): void {
    this.failed = true;
  }

  get hasFailed(): boolean {
    return this.failed;
  }

  teardown(): Promise<TeardownReport> {
    this.tornDown ??= this.doTeardown();
    return this.tornDown;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.teardown();
  }

  private sweepOnce(): Promise<unknown> {
    if (this.options.sweepStale === false || this.keepOnFailure) return Promise.resolve();
    // A failing sweep must not fail a test: it is housekeeping for earlier runs.
    staleSwept ??= sweepStale(this.docker).catch((err: unknown) => {
      this.events?.log(`could not sweep stale test resources: ${messageOf(err)}`, { level: 'warn', step: 'testing.sweep' });
    });
    return staleSwept;
  }

  private readonly images = new Map<string, Promise<string>>();

  private imageFor(def: ContainerDefinition): Promise<string> {
    const key = nodeKey(def);
    let p = this.images.get(key);
    if (!p) {
      p = resolveImage(this.docker, def.options.image, def.name, this.events);
      // Awaited by the container's creation; an early failure must not surface as unhandled.
      p.catch(() => {});
      this.images.set(key, p);
    }
    return p;
  }

  private createNode(node: GraphNode): Promise<Created> {
    const key = nodeKey(node.def);
    let p = this.creating.get(key);
    if (!p) {
      p = this.create(node.def).then((c) => { this.created.set(key, c); return c; });
      this.creating.set(key, p);
    }
    return p;
  }

  private async create(def: Definition): Promise<Created> {
    const startedAt = Date.now();
    this.events?.step('testing.create', 'start', { message: `${def.kind} ${def.name}` });
    let created: Created;
    switch (def.kind) {
      case 'volume': {
        const body = buildVolumeCreate(def, this.owner);
        await this.docker.createVolume(body);
        created = { kind: 'volume', name: body.Name! };
        break;
      }
      case 'network': {
        const body = buildNetworkCreate(def, this.owner);
        const net = await this.docker.createNetwork(body);
        created = { kind: 'network', name: body.Name, id: net.id };
        break;
      }
      case 'container':
        created = { kind: 'container', runtime: await this.startContainer(def) };
        break;
    }
    this.events?.step('testing.create', 'done', { message: `${def.kind} ${def.name}`, durationMs: Date.now() - startedAt });
    return created;
  }

  private async startContainer(def: ContainerDefinition): Promise<ContainerRuntime> {
    // The event stream must be open before the start (so a fast exit is not missed), not before
    // the create: opening it alongside the create keeps it off the critical path.
    const eventsOpen = this.runEvents.open();
    eventsOpen.catch(() => {});
    let imageRef = await this.imageFor(def);
    let plan = buildContainerPlan(def, this.owner, imageRef);
    let container: Docker.Container;
    try {
      container = await createContainer(this.docker, plan.create);
    } catch (err) {
      // The image was found earlier in this process and removed since: check (build, pull) again.
      if (!isNotFound(err)) throw err;
      forgetImage(this.docker, imageRef);
      this.images.delete(nodeKey(def));
      imageRef = await this.imageFor(def);
      plan = buildContainerPlan(def, this.owner, imageRef);
      container = await createContainer(this.docker, plan.create);
    }
    const runtime = new ContainerRuntime(this.docker, def, container.id, plan.create.name!, this.runEvents);
    // Recorded before start: a failed start still gets removed at teardown.
    this.created.set(nodeKey(def), { kind: 'container', runtime });
    await eventsOpen;
    for (const extra of plan.connectBeforeStart) {
      await this.docker.getNetwork(extra.network).connect({ Container: container.id, EndpointConfig: { Aliases: extra.aliases } });
    }
    await container.start();
    await runtime.attach();
    await runtime.waitUntilReady();
    return runtime;
  }

  private async doTeardown(): Promise<TeardownReport> {
    const removed = { containers: 0, networks: 0, volumes: 0 };
    const runtimes = [...this.created.values()].flatMap((c) => (c.kind === 'container' ? [c.runtime] : []));
    for (const r of runtimes) r.detach();
    this.runEvents.close();

    if (this.failed && this.keepOnFailure) {
      const notice = this.keptNotice(runtimes);
      for (const line of notice) this.events?.log(line, { level: 'warn', step: 'testing.keep' });
      this.unregister();
      return { runId: this.runId, kept: true, keptNotice: notice, removed };
    }

    const errors: string[] = [];
    const nodes = [...this.nodes.values()];
    await runGraph(nodes, (n) => n.dependents, async (node) => {
      const created = this.created.get(nodeKey(node.def));
      if (!created) return;
      try {
        if (created.kind === 'container') {
          const stopTimeoutMs = (node.def as ContainerDefinition).options.stopTimeoutMs;
          const c = this.docker.getContainer(created.runtime.id);
          if (stopTimeoutMs !== undefined) await c.stop({ t: Math.ceil(stopTimeoutMs / 1000) }).catch(ignoreGone);
          await c.remove({ force: true, v: true });
          removed.containers++;
        } else if (created.kind === 'network') {
          await this.docker.getNetwork(created.id).remove();
          removed.networks++;
        } else {
          await this.docker.getVolume(created.name).remove();
          removed.volumes++;
        }
      } catch (err) {
        if (!isNotFound(err)) errors.push(`${node.def.kind} ${node.def.name}: ${messageOf(err)}`);
      }
    }, 'run');

    // Anything made outside the graph's bookkeeping (a create whose response was lost) still has the label.
    const leftovers = await removeRun(this.docker, this.runId).catch((err: unknown) => ({ containers: 0, networks: 0, volumes: 0, errors: [messageOf(err)] }));
    removed.containers += leftovers.containers;
    removed.networks += leftovers.networks;
    removed.volumes += leftovers.volumes;
    errors.push(...leftovers.errors);
    this.unregister();
    if (errors.length) {
      throw new GangwayError('operation', `teardown of run ${this.runId} left resources behind`, { step: 'testing.teardown', details: errors, hint: manualCleanupCommands(this.runId).join('; ') });
    }
    return { runId: this.runId, kept: false, keptNotice: [], removed };
  }

  private keptNotice(runtimes: readonly ContainerRuntime[]): string[] {
    const lines = [`GANGWAY_KEEP=1: kept the resources of failed test run ${this.runId}`];
    for (const r of runtimes) {
      const ports = r.publishedPortKeys().map((k) => `${k} -> http://127.0.0.1:${r.hostPort(k)}`);
      lines.push(`  ${r.name}: docker logs ${r.containerName} | docker exec -it ${r.containerName} sh${ports.length ? ` | ${ports.join(', ')}` : ''}`);
    }
    lines.push('  remove them with:');
    for (const cmd of manualCleanupCommands(this.runId)) lines.push(`    ${cmd}`);
    return lines;
  }
}

function ignoreGone(err: unknown): void {
  // 304: already stopped; 404: already gone.
  if (statusCodeOf(err) !== 304 && !isNotFound(err)) throw err;
}

/** Creates and starts `defs` (and their dependencies) in a new run. Failure tears down what was made, unless kept. */
export async function setup(defs: Definition | readonly Definition[], options: SetupOptions = {}): Promise<Environment> {
  const env = new Environment(options);
  try {
    await env.ensure(...(Array.isArray(defs) ? defs : [defs as Definition]));
  } catch (err) {
    // GANGWAY_KEEP keeps the failed run; the error then says how to reach it.
    const report = await env.teardown().catch(() => undefined);
    if (report?.kept && err instanceof Error) err.message += `\n${report.keptNotice.join('\n')}`;
    throw err;
  }
  return env;
}
