// Release end to end: build the app, release 1.2.3 --semver --latest, then 1.3.0, then 1.2.4, and
// check by digest where every floating tag points; then every bad input the issue names.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SandboxInfo } from '../../src/sandbox/types.js';
import {
  buildRegistryImage, docker, gangway, makeApp, remoteDigest, remoteTags, removeLocalImages, setAppVersion, startRegistry, stopRegistry, type TestRegistry,
} from './release-support.js';

const run = promisify(execFile);
const RUN_ID = randomBytes(3).toString('hex');
const REPO = `release-it-${RUN_ID}/hello`;
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;

/** The shared sandbox when the project's globalSetup provides one; else this file's own registry. */
function sandboxOrUndefined(): SandboxInfo | undefined {
  try {
    return inject('sandbox') as SandboxInfo | undefined;
  } catch {
    return undefined;
  }
}
const sandbox = sandboxOrUndefined();

let plain: TestRegistry | undefined;
let secured: TestRegistry | undefined;
let readOnly: TestRegistry | undefined;
/** Where the main flow pushes: registry:5000 of the sandbox, or our own registry. */
let mainRegistry = '';
/** How the runner reaches that registry's API. */
let mainApi = '';
const apps: string[] = [];

beforeAll(async () => {
  await buildRegistryImage();
  if (sandbox) {
    mainRegistry = sandbox.registry.name;
    mainApi = `127.0.0.1:${sandbox.registry.localPort}`;
  } else {
    plain = await startRegistry({ role: 'plain' });
    mainRegistry = mainApi = plain.address;
  }
  secured = await startRegistry({ role: 'auth', htpasswd: `tester:${bcrypt.hashSync(PASSWORD, 8)}\n` });
  readOnly = await startRegistry({ role: 'readonly', readonly: true });
});

afterAll(async () => {
  for (const r of [plain, secured, readOnly]) await stopRegistry(r);
  for (const registry of [mainRegistry, plain?.address, secured?.address, readOnly?.address]) {
    if (registry) await removeLocalImages(`${registry}/${REPO}`);
  }
  for (const dir of apps) rmSync(dir, { recursive: true, force: true });
});

function newApp(image: string, registry?: { server: string; username: string; passwordVar: string }): string {
  const dir = makeApp({ image, ...(registry ? { registry } : {}) });
  apps.push(dir);
  return dir;
}

async function buildVersion(app: string, version: string, env: Record<string, string> = {}): Promise<void> {
  setAppVersion(app, version);
  const r = await gangway(['build', '--version', version], { cwd: app, env });
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

/** A loopback port nobody listens on (fetch refuses some well-known ones such as 9). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Pulls a tag on a sandbox host through SSH and returns the digest the host got. */
async function digestOnHost(info: SandboxInfo, ref: string): Promise<string> {
  const host = info.hosts[0]!;
  const { stdout } = await run('ssh', [
    '-i', info.keyPath, '-o', `UserKnownHostsFile=${info.knownHostsPath}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
    '-p', String(host.sshPort), `root@${host.address}`,
    `docker pull -q ${ref} >/dev/null && docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' ${ref}`,
  ], { timeout: 60_000 });
  const line = stdout.split('\n').find((l) => l.startsWith(`${ref.slice(0, ref.lastIndexOf(':'))}@`));
  return line!.slice(line!.indexOf('@') + 1);
}

describe('release 1.2.3, 1.3.0, then 1.2.4', () => {
  let app = '';
  const image = () => `${mainRegistry}/${REPO}`;

  it('builds the app through gangway build, labelled with its version', async () => {
    app = newApp(image());
    await buildVersion(app, '1.2.3');
    const labels = JSON.parse(await docker('image', 'inspect', '-f', '{{json .Config.Labels}}', `${image()}:1.2.3`)) as Record<string, string>;
    expect(labels['org.opencontainers.image.version']).toBe('1.2.3');
    const history = await docker('history', '--no-trunc', '--format', '{{.CreatedBy}}', `${image()}:1.2.3`);
    expect(history).toContain('COPY file:');
  });

  it('--dry-run prints exactly the tag and push operations, in order, and pushes nothing', async () => {
    const r = await gangway(['release', '--version', '1.2.3', '--semver', '--latest', '--dry-run'], { cwd: app });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const ref = (tag: string) => `${image()}:${tag}`;
    expect(r.stdout.trim().split('\n')).toEqual([
      `docker tag ${ref('1.2.3')} ${ref('1.2')}`,
      `docker tag ${ref('1.2.3')} ${ref('1')}`,
      `docker tag ${ref('1.2.3')} ${ref('latest')}`,
      `docker push ${ref('1.2.3')}`,
      `docker push ${ref('1.2')}`,
      `docker push ${ref('1')}`,
      `docker push ${ref('latest')}`,
      'release 1.2.3: dry run: 4 tag(s) would be pushed',
    ]);
    expect(await remoteTags(mainApi, REPO)).toEqual([]);
    await expect(docker('image', 'inspect', ref('1.2'))).rejects.toThrow();
  });

  it('1.2.3 --semver --latest pushes 1.2.3, 1.2, 1 and latest', async () => {
    const r = await gangway(['release', '--version', '1.2.3', '--semver', '--latest'], { cwd: app });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await remoteTags(mainApi, REPO)).toEqual(['1', '1.2', '1.2.3', 'latest']);
  });

  it('1.3.0 moves 1 and latest', async () => {
    await buildVersion(app, '1.3.0');
    const r = await gangway(['release', '--version', '1.3.0', '--semver', '--latest'], { cwd: app });
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('1.2.4 moves 1.2 but not 1 nor latest, and says so', async () => {
    await buildVersion(app, '1.2.4');
    const r = await gangway(['release', '--version', '1.2.4', '--semver', '--latest'], { cwd: app });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`${image()}:1 stays: 1.3.0 is newer than 1.2.4`);
    expect(r.stdout).toContain(`${image()}:latest stays: 1.3.0 is newer than 1.2.4`);
    expect(r.stdout).toMatch(/release 1\.2\.4: 2 tag\(s\) pushed; not moved: 1 \(stays at 1\.3\.0\), latest \(stays at 1\.3\.0\)/);
  });

  it('the registry API shows 1.2 -> 1.2.4, 1 and latest -> 1.3.0, 1.3 -> 1.3.0', async () => {
    const d = async (tag: string) => remoteDigest(mainApi, REPO, tag);
    const [v123, v124, v130] = [await d('1.2.3'), await d('1.2.4'), await d('1.3.0')];
    expect(new Set([v123, v124, v130]).size).toBe(3);
    expect({ '1.2': await d('1.2'), '1': await d('1'), latest: await d('latest'), '1.3': await d('1.3') }).toEqual({ '1.2': v124, '1': v130, latest: v130, '1.3': v130 });
  });

  it.runIf(sandbox !== undefined)('a sandbox host pulls every tag and gets the same digests', async () => {
    const on = (tag: string) => digestOnHost(sandbox!, `${image()}:${tag}`);
    const api = (tag: string) => remoteDigest(mainApi, REPO, tag);
    for (const tag of ['1.2.3', '1.2.4', '1.3.0', '1.2', '1.3', '1', 'latest']) expect(await on(tag), tag).toBe(await api(tag));
    expect(await on('1.2')).toBe(await on('1.2.4'));
    expect(await on('1')).toBe(await on('1.3.0'));
    expect(await on('latest')).toBe(await on('1.3.0'));
  });

  it('--force moves 1 and latest back to 1.2.4', async () => {
    const r = await gangway(['release', '--version', '1.2.4', '--semver', '--latest', '--force'], { cwd: app });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await remoteDigest(mainApi, REPO, 'latest')).toBe(await remoteDigest(mainApi, REPO, '1.2.4'));
    // Put them back where they belong for anyone looking at the registry afterwards.
    const back = await gangway(['release', '--version', '1.3.0', '--semver', '--latest'], { cwd: app });
    expect(back.code, back.stdout + back.stderr).toBe(0);
  });

  it('the same version again with the same image is skipped; with another image it is refused (exit 1)', async () => {
    const same = await gangway(['release', '--version', '1.3.0'], { cwd: app });
    expect(same.code, same.stdout + same.stderr).toBe(0);
    expect(same.stdout).toContain('already holds this image');
    await buildVersion(app, '1.3.0'); // same version, but version.txt says 1.3.0 again: rebuild with other content
    setAppVersion(app, '1.3.0-rebuilt');
    const rebuilt = await gangway(['build', '--version', '1.3.0'], { cwd: app });
    expect(rebuilt.code).toBe(0);
    const before = await remoteDigest(mainApi, REPO, '1.3.0');
    const refused = await gangway(['release', '--version', '1.3.0', '--semver', '--latest'], { cwd: app });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/release 1\.3\.0 refused.*nothing was tagged or pushed/);
    expect(refused.stdout).toContain(`${image()}:1.3.0 already exists and holds another image`);
    expect(await remoteDigest(mainApi, REPO, '1.3.0')).toBe(before);
  });

  it('releases to several registries in one call (dry run)', async () => {
    const ro = readOnly!.address;
    const r = await gangway(['release', '--version', '1.2.4', '--semver', '--registry', mainRegistry, '--registry', ro, '--dry-run'], { cwd: app });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`${image()}:1.2.4 already holds this image: not pushed again`);
    expect(r.stdout).toContain(`${image()}:1 stays: 1.3.0 is newer than 1.2.4`);
    expect(r.stdout).toContain(`docker push ${ro}/${REPO}:1.2.4\ndocker push ${ro}/${REPO}:1.2\ndocker push ${ro}/${REPO}:1\n`);
  });
});

describe('bad input and failures', () => {
  let app = '';
  const image = () => `${mainRegistry}/${REPO}`;
  beforeAll(async () => {
    app = newApp(image());
    await buildVersion(app, '2.0.0');
  });

  it('an invalid version is exit 2 and touches nothing', async () => {
    const r = await gangway(['release', '--version', 'not/a/tag', '--semver'], { cwd: app });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('version "not/a/tag" (from --version) is not a valid Docker tag');
    const env = await gangway(['release'], { cwd: app, env: { GANGWAY_VERSION: '-bad' } });
    expect(env.code).toBe(2);
    expect(env.stdout).toContain('$GANGWAY_VERSION');
  });

  it('an unknown image is exit 2 (nothing touched) with a hint to build it', async () => {
    const r = await gangway(['release', '--version', '9.9.9', '--image', `${mainRegistry}/release-it-${RUN_ID}/nope`], { cwd: app });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`image ${mainRegistry}/release-it-${RUN_ID}/nope:9.9.9 not found in the local engine`);
    expect(r.stdout).toContain('gangway build --version 9.9.9');
  });

  it('an unreachable registry is exit 1 with a clear message, and nothing is pushed', async () => {
    const port = await closedPort();
    const r = await gangway(['release', '--version', '2.0.0', '--semver', '--registry', `127.0.0.1:${port}`], { cwd: app });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`registry 127.0.0.1:${port}: listing the tags of ${REPO} failed: the registry is unreachable at http://127.0.0.1:${port} (ECONNREFUSED)`);
    expect(r.stdout).not.toMatch(/^push /m);
  });

  it('a partial failure says exactly which tags made it and which did not (exit 1)', async () => {
    const target = mainRegistry;
    const ro = readOnly!.address;
    const r = await gangway(['release', '--version', '2.0.0', '--semver', '--registry', target, '--registry', ro], { cwd: app });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`pushed (3): ${target}/${REPO}:2.0.0, ${target}/${REPO}:2.0, ${target}/${REPO}:2`);
    expect(r.stdout).toContain(`failed: ${ro}/${REPO}:2.0.0: `);
    expect(r.stdout).toContain(`not pushed (2): ${ro}/${REPO}:2.0, ${ro}/${REPO}:2`);
    expect(r.stdout).toContain('release 2.0.0 incomplete: 3 of 6 tags pushed');
    expect(await remoteTags(mainApi, REPO)).toEqual(expect.arrayContaining(['2', '2.0', '2.0.0']));
    expect(await remoteTags(ro, REPO)).toEqual([]);
  });
});

describe('registry login', () => {
  let server = '';
  const auth = `Basic ${Buffer.from(`tester:${PASSWORD}`).toString('base64')}`;
  let app = '';
  beforeAll(async () => {
    server = secured!.address;
    app = newApp(`${server}/${REPO}`, { server, username: 'tester', passwordVar: 'RELEASE_TEST_PASSWORD' });
    await buildVersion(app, '3.1.0', { RELEASE_TEST_PASSWORD: PASSWORD });
  });

  it('a wrong password is exit 1, says so, and pushes nothing', async () => {
    const r = await gangway(['release', '--version', '3.1.0', '--semver', '--latest'], { cwd: app, env: { RELEASE_TEST_PASSWORD: 'wrong-password-123' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`registry ${server}: listing the tags of ${REPO} was refused: authentication failed`);
    expect(r.stdout).toContain('hint: check the registry username and password');
    expect(r.stdout + r.stderr).not.toContain('wrong-password-123');
    expect(await remoteTags(server, REPO, auth)).toEqual([]);
  });

  it('the password never shows in output (--verbose, --json) or in the process list while pushing', async () => {
    const seenArgs: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { stdout } = await run('ps', ['-eo', 'args'], { maxBuffer: 16 * 1024 * 1024 });
        seenArgs.push(stdout);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const env = { RELEASE_TEST_PASSWORD: PASSWORD };
    const verbose = await gangway(['--verbose', 'release', '--version', '3.1.0', '--semver', '--latest'], { cwd: app, env });
    const json = await gangway(['--verbose', '--json', 'release', '--version', '3.1.0', '--semver', '--latest', '--force'], { cwd: app, env });
    const push = await gangway(['--verbose', 'build', '--version', '3.1.0', '--push'], { cwd: app, env });
    sampling = false;
    await sampler;
    for (const r of [verbose, json, push]) expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await remoteTags(server, REPO, auth)).toEqual(['3', '3.1', '3.1.0', 'latest']);
    const everything = [verbose, json, push].map((r) => r.stdout + r.stderr).join('\n');
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(Buffer.from(PASSWORD).toString('base64').slice(0, 16));
    expect(seenArgs.length).toBeGreaterThan(3);
    expect(seenArgs.join('\n')).not.toContain(PASSWORD);
    // The JSON stream is NDJSON a CI job can read.
    const events = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; kind?: string });
    expect(events.some((e) => e.type === 'result' && e.kind === 'release')).toBe(true);
  });
});

