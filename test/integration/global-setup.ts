// Integration tests share ONE sandbox (3 Docker-in-Docker hosts + a registry), started here
// once and handed to every test file as inject('sandbox').
//   GANGWAY_KEEP=1            leave it running at the end (inspect it with `gangway sandbox status`)
//   GANGWAY_SANDBOX_REUSE=1   reuse a running sandbox from an earlier GANGWAY_KEEP=1 run
//   GANGWAY_SANDBOX_OUT=DIR   where its key, known_hosts and config go (default: a dir in tmp)
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

const SANDBOX_ID = 'default';
const HOSTS = 3;

/** A sandbox left by an earlier run, if every one of its containers still runs. */
async function reusable(outDir: string): Promise<SandboxInfo | undefined> {
  const info = await readSandboxInfo(outDir);
  if (!info) return undefined;
  const { rows } = await sandboxStatus({ id: info.id });
  const running = new Set(rows.filter((r) => r.state === 'running').map((r) => r.name));
  const docker = new Docker();
  const ids = [info.registry.containerId, ...info.hosts.map((h) => h.containerId)];
  const names = await Promise.all(ids.map((id) => docker.getContainer(id).inspect().then((c) => c.Name.replace(/^\//, ''), () => '')));
  return names.every((n) => n && running.has(n)) ? info : undefined;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const events = new Events();
  // Progress on stderr so vitest's own reporter output stays readable.
  events.on(plainRenderer({ out: process.stderr }));
  const outDir = process.env.GANGWAY_SANDBOX_OUT ?? join(tmpdir(), 'gangway-test-sandbox');
  const keep = process.env.GANGWAY_KEEP === '1';

  let info = process.env.GANGWAY_SANDBOX_REUSE === '1' ? await reusable(outDir) : undefined;
  const reused = info !== undefined;
  if (info) {
    events.log(`reusing sandbox ${info.id} from ${outDir}`);
  } else {
    const started = Date.now();
    const { timings: _timings, ...upInfo } = await sandboxUp({ id: SANDBOX_ID, hosts: HOSTS, outDir }, events);
    info = upInfo;
    events.log(`sandbox ${info.id} up in ${Date.now() - started} ms (${outDir})`);
  }
  project.provide('sandbox', info);

  return async () => {
    if (keep || reused) {
      events.log(`sandbox ${info.id} left running (${outDir}); remove it with: gangway sandbox down`);
      return;
    }
    await sandboxDown({ id: SANDBOX_ID }, events);
  };
}
