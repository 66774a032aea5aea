// The CI recipes of examples/ci, run step by step against the sandbox so they cannot rot: each
// recipe is planned for a push (a branch, then a tag) as its CI would (test/integration/ci), and
// every step that CI would run runs here with bash, in a clone of a repository made from
// examples/hello, with the CI's variables and secrets as environment (the sandbox's SSH key as
// the deploy key). GitHub deploys v1.0.0, then GitLab deploys v1.1.0 over it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { Events } from '../../src/events/events.js';
import { ensureBusyboxImage } from '../../src/sandbox/images.js';
import { planGithub } from './ci/github.js';
import { planGitlab, type GitlabVariable } from './ci/gitlab.js';
import type { CiEvent, Pipeline } from './ci/pipeline.js';
import { runPipeline, type StepResult } from './ci/runner.js';
import { appContainers, BIN, gangway, getAs, isUp, ROOT } from './helpers/deploy.js';
import { testProxyImage } from './helpers/proxy-line.js';
import { remoteDigest, remoteTags, removeLocalImages } from './release-support.js';

const info = inject('sandbox');
const RUN = randomBytes(3).toString('hex');
// A service and a Host name of its own on the shared proxies: other files' services are untouched.
const SERVICE = 'ci-recipes';
const HOSTNAME = 'ci-recipes.test';
const REPO = `ci-recipes-${RUN}/hello`;
const IMAGE = `${info.registry.name}/${REPO}`;
const API = `127.0.0.1:${info.registry.localPort}`;
const GANGWAY_PACKAGE = 'gangway-0.1.0.tgz';
const STEP_TIMEOUT_MS = 180_000;
const PIPELINE_TIMEOUT_MS = 480_000;

const DEPLOY_SSH_KEY = readFileSync(info.keyPath, 'utf8');
const DEPLOY_KNOWN_HOSTS = readFileSync(info.knownHostsPath, 'utf8');
const REGISTRY_PASSWORD = `ci-registry-${randomBytes(9).toString('hex')}`;
/** What must never show in a step's output: the key, any line of it, the password. */
const NEVER_SHOWN = [DEPLOY_SSH_KEY.trim(), ...DEPLOY_SSH_KEY.split('\n').filter((l) => l.length >= 20 && !l.startsWith('-----')), REGISTRY_PASSWORD];

const GITHUB_RECIPE = readFileSync(join(ROOT, 'examples/ci/github/gangway.yml'), 'utf8');
const GITLAB_RECIPE = readFileSync(join(ROOT, 'examples/ci/gitlab/.gitlab-ci.yml'), 'utf8');
const ENGINES = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;

let work = '';
let repo = '';

const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=ci-recipes test', '-c', 'user.email=ci@example.invalid', ...args], { cwd: repo, encoding: 'utf8' }).trim();

/**
 * The app's repository: examples/hello with the gangway.yml a user would write for these hosts
 * (the sandbox): registry login from ${REGISTRY_PASSWORD}, SSH through the agent the recipe
 * starts and the known_hosts it writes (no key path in the config).
 */
async function makeRepository(): Promise<void> {
  repo = join(work, 'repository');
  cpSync(join(ROOT, 'examples/hello'), repo, { recursive: true });
  const example = parse(readFileSync(join(repo, 'gangway.yml'), 'utf8')) as Record<string, unknown> & { build: { args: Record<string, string> } };
  const busybox = (await ensureBusyboxImage(new Docker(), new Events())).tag;
  const [vm1, vm2, vm3] = info.hosts;
  const config = {
    ...example,
    service: SERVICE,
    image: IMAGE,
    registry: { server: info.registry.name, username: 'ci', password: '${REGISTRY_PASSWORD}' },
    servers: { web: { hosts: [vm1!.name, vm2!.name] }, workers: { hosts: [vm3!.name], cmd: ['/app/worker'] } },
    hosts: Object.fromEntries(info.hosts.map((h) => [h.name, { address: h.address, port: h.sshPort }])),
    ssh: { user: 'root', connect_timeout: '5s' },
    // This machine has no Docker Hub: the example's base image is the sandbox's busybox.
    build: { ...example.build, args: { ...example.build.args, BASE: busybox } },
    proxy: { app_port: 80, image: testProxyImage(info), hosts: [HOSTNAME], healthcheck: { path: '/up', interval: '500ms', timeout: '2s' } },
    drain_timeout: '5s',
  };
  writeFileSync(join(repo, 'gangway.yml'), stringify(config));
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'hello');
}

function plan(ci: 'github' | 'gitlab', event: CiEvent): Pipeline {
  if (ci === 'github') {
    return planGithub(GITHUB_RECIPE, { event, secrets: { DEPLOY_SSH_KEY, DEPLOY_KNOWN_HOSTS, REGISTRY_PASSWORD }, vars: { GANGWAY_PACKAGE } });
  }
  const variables: Record<string, GitlabVariable> = {
    DEPLOY_SSH_KEY: { value: DEPLOY_SSH_KEY, file: true, protected: true },
    DEPLOY_KNOWN_HOSTS: { value: DEPLOY_KNOWN_HOSTS, file: true, protected: true },
    REGISTRY_PASSWORD: { value: REGISTRY_PASSWORD },
    GANGWAY_PACKAGE: { value: GANGWAY_PACKAGE },
  };
  // The tags v* are protected (docs/ci.md); a feature branch is not.
  return planGitlab(GITLAB_RECIPE, { event, variables, protectedRef: event.ref.kind === 'tag' });
}

/** Plans the recipe for a push of HEAD (a branch or a tag) and runs it. */
async function push(ci: 'github' | 'gitlab', ref: CiEvent['ref']): Promise<{ pipeline: Pipeline; results: StepResult[] }> {
  const sha = git('rev-parse', 'HEAD');
  const pipeline = plan(ci, { ref, sha, repository: 'acme/hello' });
  const results = await runPipeline(pipeline, {
    repo, sha, workDir: work, gangwayPackage: GANGWAY_PACKAGE, gangwayBin: BIN, nodeEngines: ENGINES, stepTimeoutMs: STEP_TIMEOUT_MS,
    onStep: (r) => process.stderr.write(`[${ci} ${ref.name}] ${r.job} / ${r.step}: exit ${r.code} in ${r.ms} ms\n`),
  });
  return { pipeline, results };
}

/** Every step the CI would run on this push ran, in order, and passed; no secret in any output. */
function expectEveryStepPassed({ pipeline, results }: { pipeline: Pipeline; results: StepResult[] }): void {
  // First, so that a failure below never prints a step's output that holds a secret.
  for (const r of results) {
    for (const secret of NEVER_SHOWN) expect(r.output.includes(secret), `a secret in the output of ${r.job} / ${r.step}`).toBe(false);
  }
  const failed = results.find((r) => r.code !== 0);
  expect(failed, failed && `${failed.job} / ${failed.step} exited ${failed.code}:\n${failed.output}`).toBeUndefined();
  const expected = pipeline.jobs.filter((j) => j.runs).flatMap((j) => j.steps.filter((s) => s.runs).map((s) => `${j.name} / ${s.name}`));
  expect(results.filter((r) => !r.step.startsWith('(')).map((r) => `${r.job} / ${r.step}`)).toEqual(expected);
  // GitLab prints each command before it runs it: every command of every job's script ran.
  for (const job of pipeline.jobs.filter((j) => j.runs)) {
    for (const step of job.steps) {
      if (step.action.kind !== 'bash' || !step.action.echo) continue;
      const output = results.find((r) => r.job === job.name && r.step === step.name)!.output;
      for (const command of step.action.commands) expect(output, `${job.name}: ${command}`).toContain(`$ ${command}`);
    }
  }
}

const outputOf = (results: StepResult[], step: string) => results.filter((r) => r.step.includes(step)).map((r) => r.output).join('\n');

/** What a user gets through both web hosts' proxies for the service's Host name. */
async function served(): Promise<string[]> {
  return Promise.all(info.hosts.slice(0, 2).map(async (h) => { const r = await getAs(info, h.name, HOSTNAME); return `${r.status} ${r.body}`; }));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'gangway-ci-recipes-'));
  await makeRepository();
}, 300_000);

afterAll(async () => {
  if (repo) {
    // Take the service off the hosts with the same key, from a home of the test's own.
    const home = join(work, 'cleanup-home');
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, '.ssh', 'id_ed25519'), DEPLOY_SSH_KEY, { mode: 0o600 });
    writeFileSync(join(home, '.ssh', 'known_hosts'), DEPLOY_KNOWN_HOSTS);
    const r = await gangway(['remove', '--yes'], { cwd: repo, env: { HOME: home, SSH_AUTH_SOCK: '', REGISTRY_PASSWORD }, timeoutMs: 120_000 });
    expect(r.code, r.output).toBe(0);
  }
  await removeLocalImages(IMAGE);
  if (work) rmSync(work, { recursive: true, force: true });
}, 180_000);

describe('the GitHub Actions recipe', () => {
  it('a push to main builds the image and tests it; nothing is released or deployed', async () => {
    const run = await push('github', { kind: 'branch', name: 'main' });
    expect(run.pipeline.triggered).toBe(true);
    expect(run.pipeline.jobs.map((j) => [j.name, j.runs])).toEqual([['build, test, release', true], ['deploy', false]]);
    expect(run.pipeline.jobs[0]!.steps.filter((s) => !s.runs).map((s) => s.name)).toEqual(['Release with semver tags']);
    expectEveryStepPassed(run);
    expect(outputOf(run.results, 'Test the image')).toContain(`${IMAGE}:${git('rev-parse', 'HEAD')}: 2 uptests passed`);
    expect(await remoteTags(API, REPO)).toEqual([]);
  }, PIPELINE_TIMEOUT_MS);

  it('tag v1.0.0 releases 1.0.0 with its semver tags, and the hosts serve it', async () => {
    git('tag', 'v1.0.0');
    const run = await push('github', { kind: 'tag', name: 'v1.0.0' });
    expect(run.pipeline.jobs.every((j) => j.runs && j.steps.every((s) => s.runs))).toBe(true);
    expectEveryStepPassed(run);
    expect(await remoteTags(API, REPO)).toEqual(['1', '1.0', '1.0.0', 'latest']);
    expect(await served()).toEqual(['200 hello from 1.0.0', '200 hello from 1.0.0']);
  }, PIPELINE_TIMEOUT_MS);
});

describe('the GitLab CI recipe', () => {
  it('a push to a branch builds and tests without the protected variables; nothing is released or deployed', async () => {
    const run = await push('gitlab', { kind: 'branch', name: 'feature/ci' });
    expect(run.pipeline.jobs.map((j) => [j.name, j.runs])).toEqual([['build', true], ['deploy', false]]);
    expect(run.pipeline.jobs[0]!.files).toEqual({});
    expectEveryStepPassed(run);
    expect(outputOf(run.results, 'script')).toContain('2 uptests passed');
    expect(await remoteTags(API, REPO)).toEqual(['1', '1.0', '1.0.0', 'latest']);
  }, PIPELINE_TIMEOUT_MS);

  it('tag v1.1.0 on a new commit releases 1.1.0, moves 1 and latest, and deploys it over 1.0.0', async () => {
    writeFileSync(join(repo, 'CHANGES'), '1.1.0: released from GitLab\n');
    git('add', 'CHANGES');
    git('commit', '-q', '-m', '1.1.0');
    git('tag', 'v1.1.0');
    const run = await push('gitlab', { kind: 'tag', name: 'v1.1.0' });
    expect(run.pipeline.jobs.map((j) => [j.name, j.runs])).toEqual([['build', true], ['deploy', true]]);
    expectEveryStepPassed(run);
    expect(await remoteTags(API, REPO)).toEqual(['1', '1.0', '1.0.0', '1.1', '1.1.0', 'latest']);
    const digest = (tag: string) => remoteDigest(API, REPO, tag);
    expect(await digest('1')).toBe(await digest('1.1.0'));
    expect(await digest('latest')).toBe(await digest('1.1.0'));
    expect(await digest('1.0')).toBe(await digest('1.0.0'));
    expect(await served()).toEqual(['200 hello from 1.1.0', '200 hello from 1.1.0']);
    const workers = await appContainers(info, info.hosts[2]!.name, { service: SERVICE });
    expect(isUp(workers.get(`${SERVICE}-workers-1.1.0`)), JSON.stringify([...workers])).toBe(true);
  }, PIPELINE_TIMEOUT_MS);
});
