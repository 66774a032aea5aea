// Fixtures for the deploy building blocks' integration tests: tiny busybox images built FROM
// scratch, a dedicated network, and cleanup of everything by the gangway.dev=blocks label.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';

export const BLOCKS_LABEL = { 'gangway.dev': 'blocks' } as const;
const LABEL_FILTER = 'gangway.dev=blocks';
export const APP_IMAGE = 'gangway-blocks/app:1';
export const HEALTH_IMAGE = 'gangway-blocks/app-health:1';
/** The app image without /bin/sh: its uptests (ash scripts) run one container each. */
export const NOSHELL_IMAGE = 'gangway-blocks/app-noshell:1';
export const APP_PORT = 8080;

export const docker = new Docker({ socketPath: '/var/run/docker.sock' });

const files: Record<string, { body: string; mode?: number }> = {
  'www/index.html': { body: 'hello from blocks\n', mode: 0o644 },
  'uptests/web/01_pass': { body: '#!/bin/sh\necho "checking http://$1:$2/"\nwget -q -O - "http://$1:$2/"\n' },
  'uptests/web/02_fail': { body: '#!/bin/sh\necho "on stdout before failing"\necho "expected hi, got hello" >&2\nexit 3\n' },
  'uptests/web/03_hang': { body: '#!/bin/sh\necho "waiting for something that never comes"\nsleep 600\n' },
  'uptests/web/README': { body: 'not an uptest\n', mode: 0o644 },
  'uptests/pair/01_ok': { body: '#!/bin/ash\necho "pair one ok"\n' },
  'uptests/pair/02_bad': { body: '#!/bin/ash\necho "pair two: wrong answer"\nexit 4\n' },
  'uptests/workers/01_env': { body: '#!/bin/sh\necho "MODE=$MODE args=$*"\ntest "$MODE" = production && test "${#SECRET_TOKEN}" -eq 20\n' },
};

function build(tag: string, dockerfile: string, withFiles: boolean): void {
  const dir = mkdtempSync(join(tmpdir(), 'gangway-blocks-'));
  try {
    copyFileSync('/bin/busybox', join(dir, 'busybox'));
    if (withFiles) {
      for (const [path, { body, mode = 0o755 }] of Object.entries(files)) {
        mkdirSync(join(dir, path, '..'), { recursive: true });
        writeFileSync(join(dir, path), body);
        chmodSync(join(dir, path), mode);
      }
    }
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    execFileSync('docker', ['build', '-q', '-t', tag, dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds the three test images (about a second each with the legacy builder's cache). */
export function buildBlocksImages(): void {
  build(
    APP_IMAGE,
    [
      'FROM scratch',
      'COPY busybox /bin/busybox',
      'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
      'COPY www /www',
      'COPY uptests /app/uptests',
      'WORKDIR /app',
      `LABEL ${Object.entries(BLOCKS_LABEL).map(([k, v]) => `${k}=${v}`).join(' ')}`,
      `CMD ["httpd", "-f", "-p", "${APP_PORT}", "-h", "/www"]`,
      '',
    ].join('\n'),
    true,
  );
  build(
    HEALTH_IMAGE,
    [`FROM ${APP_IMAGE}`, `HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD wget -q -O /dev/null http://127.0.0.1:${APP_PORT}/ || exit 1`, ''].join('\n'),
    false,
  );
  build(NOSHELL_IMAGE, [`FROM ${APP_IMAGE}`, 'RUN ["/bin/busybox", "rm", "/bin/sh"]', ''].join('\n'), false);
}

export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(3).toString('hex')}`;
}

export async function createBlocksNetwork(): Promise<string> {
  const name = uniqueName('gangway-blocks-');
  await docker.createNetwork({ Name: name, Labels: { ...BLOCKS_LABEL } });
  return name;
}

/** Removes every container and network carrying the blocks label (ours only, by label). */
export async function cleanupBlocks(): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [LABEL_FILTER] } });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
  const networks = await docker.listNetworks({ filters: { label: [LABEL_FILTER] } });
  await Promise.all(networks.map((n) => docker.getNetwork(n.Id).remove().catch(() => {})));
}

export async function removeBlocksImages(): Promise<void> {
  const images = await docker.listImages({ filters: { label: [LABEL_FILTER], reference: ['gangway-blocks/*'] } });
  for (const img of images) await docker.getImage(img.Id).remove({ force: true }).catch(() => {});
}

/** Starts a plain labelled container (not through gangway) for gate tests. */
export async function runPlain(opts: { image: string; network: string; cmd?: string[]; name?: string; restart?: boolean }): Promise<string> {
  const name = opts.name ?? uniqueName('blocks-plain-');
  const c = await docker.createContainer({
    name,
    Image: opts.image,
    ...(opts.cmd ? { Cmd: opts.cmd } : {}),
    Labels: { ...BLOCKS_LABEL },
    HostConfig: { NetworkMode: opts.network, ...(opts.restart ? { RestartPolicy: { Name: 'unless-stopped' } } : {}) },
  });
  await c.start();
  return name;
}
