// App containers on the local engine: env file on the host (0600 in a 0700 dir), secrets kept out
// of labels and of every command line on the host, logs demultiplexed, found back by labels.
import { stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost } from '../../src/hosts/local-host.js';
import {
  containerLogsTail, findContainers, removeContainer, startAppContainer, stopContainer, type AppContainerInput,
} from '../../src/app/container.js';
import { ENV_DIR, envFilePath, parseEnvFile, readEnvFileCommand, removeEnvFileCommand } from '../../src/app/env-file.js';
import { APP_IMAGE, APP_PORT, BLOCKS_LABEL, buildBlocksImages, cleanupBlocks, createBlocksNetwork, docker, uniqueName } from './helpers/blocks.js';

const host = new LocalHost();
const deployment = { service: uniqueName('blocks') };
const { service } = deployment;
const SECRET = `s3cr3t-${uniqueName('')}-value`;
let network = '';
let input: AppContainerInput;

beforeAll(async () => {
  await cleanupBlocks();
  buildBlocksImages();
  network = await createBlocksNetwork();
  input = {
    deployment, role: 'web', version: '1.0.0', image: APP_IMAGE, envClear: { MODE: 'production' }, envSecret: { SECRET_TOKEN: SECRET },
    network, appPort: APP_PORT, labels: BLOCKS_LABEL,
  };
});
afterAll(async () => {
  await cleanupBlocks();
  for (const role of ['web', 'workers']) await host.exec(removeEnvFileCommand(envFilePath(deployment, role)).command);
});

describe('startAppContainer', () => {
  let id = '';
  beforeAll(async () => {
    ({ id } = await startAppContainer(host, input));
  });

  it('writes the env file 0600 in a 0700 directory, with the full env', async () => {
    const path = envFilePath(deployment, 'web');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(ENV_DIR)).mode & 0o777).toBe(0o700);
    const read = await host.exec(readEnvFileCommand(path).command);
    expect(parseEnvFile(read.stdout)).toEqual({ MODE: 'production', SECRET_TOKEN: SECRET });
  });

  it('starts the container on the network under its name, running, with no published port', async () => {
    const info = await docker.getContainer(id).inspect();
    expect(info.Name).toBe(`/${service}-web-1.0.0`);
    expect(info.State.Running).toBe(true);
    expect(info.NetworkSettings.Networks[network]?.Aliases).toContain(`${service}-web-1.0.0`);
    expect(info.HostConfig.PortBindings ?? {}).toEqual({});
    expect(info.HostConfig.RestartPolicy?.Name).toBe('always');
    expect(info.HostConfig.LogConfig?.Config).toEqual({ 'max-size': '10m' });
  });

  it('keeps the secret out of labels and out of every process command line on the host', async () => {
    const info = await docker.getContainer(id).inspect();
    expect(JSON.stringify(info.Config.Labels)).not.toContain(SECRET);
    const ps = await host.exec('ps -eo args');
    expect(ps.stdout).toContain('httpd -f -p 8080');
    expect(ps.stdout).not.toContain(SECRET);
    // Documented in docs/secrets.md: the Engine stores Env, like `docker run -e` would.
    expect(info.Config.Env).toContain(`SECRET_TOKEN=${SECRET}`);
  });

  it('is found back by its labels', async () => {
    const found = await findContainers(host, deployment);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ id, name: `${service}-web-1.0.0`, role: 'web', version: '1.0.0', running: true, image: APP_IMAGE });
    expect(await findContainers(host, deployment, 'workers')).toEqual([]);
  });

  it('refuses a second container of the same version with a hint', async () => {
    await expect(startAppContainer(host, input)).rejects.toMatchObject({ code: 'operation', step: 'start', hint: expect.stringMatching(/exists already/) });
  });

  it('stops gracefully, then removes; both are idempotent', async () => {
    expect(await stopContainer(host, id, 1_000)).toBe(true);
    expect(await stopContainer(host, id, 1_000)).toBe(false);
    expect((await findContainers(host, deployment))[0]).toMatchObject({ running: false, state: 'exited' });
    // Retired: no engine restart brings it back.
    expect((await docker.getContainer(id).inspect()).HostConfig.RestartPolicy?.Name).toBe('no');
    expect(await removeContainer(host, id)).toBe(true);
    expect(await removeContainer(host, id)).toBe(false);
    expect(await findContainers(host, deployment)).toEqual([]);
  });
});

describe('containerLogsTail', () => {
  it('returns the last lines of both stdout and stderr', async () => {
    const { id } = await startAppContainer(host, {
      ...input, role: 'workers', version: '2.0.0',
      cmd: ['sh', '-c', 'for i in 1 2 3 4 5; do echo "out $i"; sleep 0.05; echo "err $i" >&2; sleep 0.05; done; sleep 600'],
    });
    const deadline = Date.now() + 15_000;
    let lines: string[] = [];
    while (Date.now() < deadline) {
      lines = await containerLogsTail(host, id, 4);
      if (lines.includes('err 5') && lines.includes('out 5')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // Docker copies the two pipes concurrently: under load, order across streams is not promised.
    expect([...lines].sort()).toEqual(['err 4', 'err 5', 'out 4', 'out 5']);
    await removeContainer(host, id);
  });
});
