// A pull that the engine fails INSIDE its HTTP 200 progress stream fails every caller that pulls,
// with Docker's words. The image is real and unique to the run: pushed to the sandbox registry,
// then its config and layer blobs deleted through the registry API, so the manifest still
// resolves (the engine answers 200 and starts streaming) and the blob fetch fails mid-stream.
// Measured on Docker 20.10: the stream ends with
//   {"errorDetail":{"message":"error pulling image configuration: download failed after attempts=1: unknown blob"}, ...}
// about 0.2 s after the request. hosts check, rehearse's image copy and the proxy's image pull
// used to ignore that line and fail later with a misleading "No such image" (or not at all).
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pushImage } from '../../src/docker/images.js';
import { DockerStreamError, followProgress } from '../../src/docker/progress.js';
import { ensureImage } from '../../src/deploy/image.js';
import { GangwayError } from '../../src/errors.js';
import { checkHost } from '../../src/hosts/check.js';
import { HostPool } from '../../src/hosts/pool.js';
import { ensureProxy } from '../../src/proxy/lifecycle.js';
import { copyImage } from '../../src/rehearse/run.js';
import type { SandboxInfo } from '../../src/sandbox/types.js';
import { resolveImage } from '../../src/testing/image.js';

// Docker's words for a blob the registry does not have (distribution says "blob unknown",
// the engine's own download path "unknown blob").
const BLOB_MISSING = /unknown blob|blob unknown/i;
// What the callers said before, when they took the failed pull for a success.
const MISLEADING = /no such image/i;

const RUN = randomBytes(4).toString('hex');
const REPOSITORY = 'gangway-test/broken-pull';
const TAG = `r${RUN}`;

let sandbox: SandboxInfo;
let docker: Docker;
let pool: HostPool;
/** The image as the runner's engine names it (the registry's port on 127.0.0.1). */
let runnerRef: string;
/** The same image as the sandbox hosts name it (registry:5000). */
let hostRef: string;
let manifestDigest: string | undefined;
const hostName = () => sandbox.hosts[0]!.name;
const registryUrl = () => `http://127.0.0.1:${sandbox.registry.localPort}/v2/${REPOSITORY}`;

/** A one-file image nobody else has, so no engine holds its layer already. */
function uniqueRootfs(): NodeJS.ReadableStream {
  const tar = pack();
  tar.entry({ name: 'pull-failure-marker', mode: 0o644 }, `gangway docker-pull-failure ${RUN} ${Date.now()}\n`);
  tar.finalize();
  return tar as unknown as NodeJS.ReadableStream;
}

/** Deletes a blob from the repository: the manifest still names it, the registry no longer serves it. */
async function deleteBlob(digest: string): Promise<void> {
  const res = await fetch(`${registryUrl()}/blobs/${digest}`, { method: 'DELETE' });
  if (res.status !== 202) throw new Error(`deleting blob ${digest} from the sandbox registry answered ${res.status}: ${await res.text()}`);
}

/** What the caller threw (or returned as its failure), for matching. */
async function failureOf(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the pull to fail, but the call succeeded');
}

beforeAll(async () => {
  sandbox = inject('sandbox');
  docker = new Docker();
  runnerRef = `127.0.0.1:${sandbox.registry.localPort}/${REPOSITORY}:${TAG}`;
  hostRef = `${sandbox.registry.name}/${REPOSITORY}:${TAG}`;

  const repository = `127.0.0.1:${sandbox.registry.localPort}/${REPOSITORY}`;
  await followProgress(await docker.importImage(uniqueRootfs(), { repo: repository, tag: TAG }));
  manifestDigest = (await pushImage(docker, { repository, tag: TAG })).digest;

  const res = await fetch(`${registryUrl()}/manifests/${TAG}`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
  if (!res.ok) throw new Error(`reading the manifest of ${runnerRef} answered ${res.status}`);
  const manifest = (await res.json()) as { config: { digest: string }; layers: Array<{ digest: string }> };
  for (const digest of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) await deleteBlob(digest);
  // Only the registry had it now; every engine must pull.
  await docker.getImage(runnerRef).remove({ force: true });

  pool = new HostPool(
    [{ name: hostName(), address: sandbox.hosts[0]!.address, port: sandbox.hosts[0]!.sshPort, user: 'root', identityFile: sandbox.keyPath, local: false }],
    { knownHostsPath: sandbox.knownHostsPath, trustOnFirstUse: false, connectTimeoutMs: 5000, keepaliveIntervalMs: 15_000 },
  );
});

afterAll(async () => {
  await pool?.closeAll();
  if (manifestDigest) await fetch(`${registryUrl()}/manifests/${manifestDigest}`, { method: 'DELETE' }).catch(() => undefined);
  await docker?.getImage(runnerRef).remove({ force: true }).catch(() => undefined);
});

describe('a pull that fails inside the stream', () => {
  it('is what the fixture yields: the engine answers 200 and reports the failure in the stream, on the runner and on a host', async () => {
    for (const [engine, ref] of [[docker, runnerRef], [await (await pool.get(hostName())).docker(), hostRef]] as const) {
      // docker.pull resolving is the engine's 200: the failure can only come in the stream.
      const stream = (await engine.pull(ref)) as NodeJS.ReadableStream;
      const failure = await failureOf(() => followProgress(stream));
      expect(failure, ref).toBeInstanceOf(DockerStreamError);
      expect(failure.message, ref).toMatch(BLOB_MISSING);
    }
  });

  it('fails a deploy\'s image pull (and so an accessory boot, which pulls the same way), naming the host and the image', async () => {
    const host = await pool.get(hostName());
    const failure = await failureOf(() => ensureImage(host, hostRef, { alwaysPull: false, timeoutMs: 60_000 }));
    expect(failure).toBeInstanceOf(GangwayError);
    expect(failure.message).toContain(`cannot pull ${hostRef} on ${hostName()}`);
    expect(failure.message).toMatch(BLOB_MISSING);
    expect((failure as GangwayError).step).toBe('pull');
  });

  it('fails `hosts check --run-container` with Docker\'s words, not a later "No such image"', async () => {
    const host = await pool.get(hostName());
    const result = await checkHost(host, { runContainer: { image: hostRef, cmd: ['true'], timeoutMs: 30_000 } });
    expect(result.ok).toBe(false);
    expect(result.container).toBeUndefined();
    expect(result.error).toMatch(BLOB_MISSING);
    expect(result.error).not.toMatch(MISLEADING);
  });

  it('fails rehearse\'s copy of an image the runner has to pull first', async () => {
    const failure = await failureOf(() => copyImage(docker, runnerRef, undefined, [sandbox]));
    expect(failure.message).toMatch(BLOB_MISSING);
    expect(failure.message).not.toMatch(MISLEADING);
  });

  it('fails the proxy\'s start on a host that has to pull its image, before anything is created from it', async () => {
    const host = await pool.get(hostName());
    const network = `gangway-pullfail-${RUN}`;
    const containerName = `gangway-pullfail-proxy-${RUN}`;
    try {
      const failure = await failureOf(() =>
        ensureProxy(
          {
            host,
            service: 'pullfail',
            appPort: 80,
            healthcheck: { path: '/up', intervalMs: 300, timeoutMs: 2000 },
            network,
            containerName,
            // A folder of its own on the host: the real proxy's files are never touched.
            hostDir: `/tmp/gangway-pullfail-${RUN}`,
          },
          { image: hostRef, httpPort: 18080, publishAddress: '127.0.0.1' },
        ),
      );
      expect(failure.message).toContain(`the proxy image ${hostRef} is not on ${hostName()} and cannot be pulled`);
      expect(failure.message).toMatch(BLOB_MISSING);
      expect(failure.message).not.toMatch(MISLEADING);
      const hostDocker = await host.docker();
      expect(await hostDocker.getContainer(containerName).inspect().then(() => true, () => false)).toBe(false);
    } finally {
      const hostDocker = await host.docker();
      await hostDocker.getContainer(containerName).remove({ force: true }).catch(() => undefined);
      await hostDocker.getNetwork(network).remove().catch(() => undefined);
    }
  });

  it('fails gangway/testing\'s `{ tag, pull: \'if-missing\' }` with the engine\'s words', async () => {
    const failure = await failureOf(() => resolveImage(docker, { tag: runnerRef, pull: 'if-missing' }, 'broken'));
    expect(failure.message).toContain(`pulling ${runnerRef} for container broken failed`);
    expect(failure.message).toMatch(BLOB_MISSING);
  });
});
