// Integration tests share ONE sandbox (3 Docker-in-Docker hosts + a registry), started here
// once and handed to every test file as inject('sandbox').
//   GANGWAY_KEEP=1            leave it running at the end (inspect it with `gangway sandbox status`)
//   GANGWAY_SANDBOX_REUSE=1   reuse a running sandbox from an earlier GANGWAY_KEEP=1 run
//   GANGWAY_SANDBOX_OUT=DIR   where its key, known_hosts and config go (default: a dir in tmp)
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { TestProject } from 'vitest/node';
import { Events } from '../../src/events/events.js';
import { plainRenderer } from '../../src/events/renderers.js';
import { readSandboxInfo, sandboxDown, sandboxStatus, sandboxUp } from '../../src/sandbox/index.js';
import type { SandboxInfo } from '../../src/sandbox/types.js';

declare module 'vitest' {
  export interface ProvidedContext {
    sandbox: SandboxInfo;
  }
}

// GANGWAY_SANDBOX_ID runs the suite on a sandbox of its own (its registry on a free port), so
// two runs on one machine need not take turns.
const SANDBOX_ID = process.env.GANGWAY_SANDBOX_ID ?? 'default';
const HOSTS = 3;
const LOCK_WAIT_MS = 30 * 60_000;

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * The default sandbox holds 127.0.0.1:5000 and `up` sweeps whatever had its label, so two
 * integration runs on one machine would destroy each other's hosts: the second one waits.
 * A lock whose holder died is taken over.
 */
async function acquireRunLock(path: string, log: (line: string) => void): Promise<() => Promise<void>> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      return async () => {
        if ((await readFile(path, 'utf8').catch(() => '')) === String(process.pid)) await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(await readFile(path, 'utf8').catch(() => ''));
    if (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder)) {
      await unlink(path).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another integration run (pid ${holder}) has held ${path} for ${LOCK_WAIT_MS / 60_000} minutes`);
    if (!announced) log(`waiting for the integration run of pid ${holder} to finish with the shared sandbox (${path})`);
    announced = true;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** A sandbox left by an earlier run, if every one of its containers still runs. */
async function reusable(outDir: string): Promise<SandboxInfo | undefined> {
  const info = await readSandboxInfo(outDir);
  // One from before the HAProxy 3.0 image existed cannot run the integration-haproxy-3.0 project.
  if (!info?.images.proxies) return undefined;
  const { rows } = await sandboxStatus({ id: info.id });
  const running = new Set(rows.filter((r) => r.state === 'running').map((r) => r.name));
  const docker = new Docker();
  const ids = [info.registry.containerId, ...info.hosts.map((h) => h.containerId)];
  const names = await Promise.all(ids.map((id) => docker.getContainer(id).inspect().then((c) => c.Name.replace(/^\//, ''), () => '')));
  return names.every((n) => n && running.has(n)) ? info : undefined;
}

interface Started {
  info: SandboxInfo;
  teardown: () => Promise<void>;
}

/**
 * The integration projects of one vitest run (`integration`, and `integration-haproxy-3.0`, which
 * runs the proxy files again on HAProxy 3.0) share one sandbox. vitest runs each project's global
 * setup in its own module instance of this file but in one process, so the sandbox is kept on
 * globalThis: the first setup starts it, the last teardown ends it.
 */
interface Shared {
  started: Promise<Started>;
  users: number;
}
const SHARED = Symbol.for('gangway.integration.sandbox');
type WithShared = typeof globalThis & { [SHARED]?: Shared };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const g = globalThis as WithShared;
  const shared = (g[SHARED] ??= { started: startShared(), users: 0 });
  shared.users++;
  let started: Started;
  try {
    started = await shared.started;
  } catch (err) {
    if (--shared.users === 0) delete g[SHARED];
    throw err;
  }
  project.provide('sandbox', started.info);
  return async () => {
    if (--shared.users > 0) return;
    delete g[SHARED];
    await started.teardown();
  };
}

async function startShared(): Promise<Started> {
  const events = new Events();
  // Progress on stderr so vitest's own reporter output stays readable.
  events.on(plainRenderer({ out: process.stderr }));
  const outDir = process.env.GANGWAY_SANDBOX_OUT ?? join(tmpdir(), SANDBOX_ID === 'default' ? 'gangway-test-sandbox' : `gangway-test-sandbox-${SANDBOX_ID}`);
  const keep = process.env.GANGWAY_KEEP === '1';
  const releaseLock = await acquireRunLock(join(tmpdir(), `gangway-sandbox-${SANDBOX_ID}.lock`), (line) => events.log(line, { level: 'warn' }));
  try {
    return await start(events, outDir, keep, releaseLock);
  } catch (err) {
    await releaseLock();
    throw err;
  }
}

async function start(events: Events, outDir: string, keep: boolean, releaseLock: () => Promise<void>): Promise<Started> {
  const previous = process.env.GANGWAY_SANDBOX_REUSE === '1' ? await reusable(outDir) : undefined;
  const reused = previous !== undefined;
  let info: SandboxInfo;
  if (previous) {
    info = previous;
    events.log(`reusing sandbox ${info.id} from ${outDir}`);
  } else {
    const started = Date.now();
    const { timings: _timings, ...upInfo } = await sandboxUp({ id: SANDBOX_ID, hosts: HOSTS, outDir, ...(SANDBOX_ID === 'default' ? {} : { registryPort: 0 }) }, events);
    info = upInfo;
    events.log(`sandbox ${info.id} up in ${Date.now() - started} ms (${outDir})`);
  }
  const teardown = async () => {
    try {
      if (keep || reused) events.log(`sandbox ${info.id} left running (${outDir}); remove it with: ${SANDBOX_ID === 'default' ? '' : `GANGWAY_SANDBOX_ID=${SANDBOX_ID} `}gangway sandbox down`);
      else await sandboxDown({ id: SANDBOX_ID }, events);
    } finally {
      await releaseLock();
    }
  };
  return { info, teardown };
}
