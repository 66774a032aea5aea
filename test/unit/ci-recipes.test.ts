// The CI recipe test's planners: a workflow or pipeline turned into what its CI runs for a push,
// and every construct the test does not simulate refused instead of skipped.
import { describe, expect, it } from 'vitest';
import { planGithub, type GithubInputs } from '../integration/ci/github.js';
import { evaluateRule } from '../integration/ci/gitlab-rules.js';
import { planGitlab } from '../integration/ci/gitlab.js';
import type { CiEvent, Pipeline } from '../integration/ci/pipeline.js';
import { bashScript, parseGithubEnv, parseGithubPath } from '../integration/ci/step-files.js';
import { checkStandIns, nodeLineProblem, standInFor } from '../integration/ci/stand-ins.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const branch = (name = 'main'): CiEvent => ({ ref: { kind: 'branch', name }, sha: SHA, repository: 'acme/hello' });
const tag = (name = 'v1.2.3'): CiEvent => ({ ref: { kind: 'tag', name }, sha: SHA, repository: 'acme/hello' });
const gh = (text: string, event: CiEvent, more: Partial<GithubInputs> = {}) => planGithub(text, { event, secrets: { KEY: 'key-value' }, vars: { PKG: 'pkg-spec' }, ...more });
const ran = (p: Pipeline) => p.jobs.filter((j) => j.runs).map((j) => `${j.name}: ${j.steps.filter((s) => s.runs).map((s) => s.name).join(', ')}`);

const WORKFLOW = `
on:
  push:
    branches: [main]
    tags: ['v*.*.*']
defaults: { run: { shell: bash } }
env: { TOP: top }
jobs:
  deploy:
    needs: [build]
    if: startsWith(github.ref, 'refs/tags/v')
    env:
      SECRET: \${{ secrets.KEY }}
    steps:
      - name: deploy
        run: echo deploy \${{ github.ref_name }}
  build:
    env:
      PKG: \${{ vars.PKG }}
    steps:
      - uses: actions/checkout@v4
      - name: build
        run: make
      - name: release
        if: \${{ github.ref_type == 'tag' }}
        run: release
`;

describe('planGithub', () => {
  it('orders jobs by needs, and runs the tag-only job and step only on a tag', () => {
    expect(ran(gh(WORKFLOW, branch()))).toEqual(['build: uses actions/checkout@v4, build']);
    expect(ran(gh(WORKFLOW, tag()))).toEqual(['build: uses actions/checkout@v4, build, release', 'deploy: deploy']);
  });

  it('evaluates ${{ }} in env and scripts, and gives the CI variables a run has', () => {
    const p = gh(WORKFLOW, tag('v2.0.0'));
    const deploy = p.jobs.find((j) => j.name === 'deploy')!;
    expect(deploy.env).toMatchObject({ TOP: 'top', SECRET: 'key-value', GITHUB_REF: 'refs/tags/v2.0.0', GITHUB_REF_NAME: 'v2.0.0', GITHUB_REF_TYPE: 'tag', GITHUB_SHA: SHA });
    expect(deploy.steps[0]!.action).toEqual({ kind: 'bash', commands: ['echo deploy v2.0.0'], echo: false });
    expect(p.jobs.find((j) => j.name === 'build')!.env.PKG).toBe('pkg-spec');
  });

  it('is triggered only by the pushes its filters name', () => {
    expect(gh(WORKFLOW, branch('main')).triggered).toBe(true);
    expect(gh(WORKFLOW, branch('feature/x')).triggered).toBe(false);
    expect(gh(WORKFLOW, tag('v1.2.3')).triggered).toBe(true);
    expect(gh(WORKFLOW, tag('release-1')).triggered).toBe(false);
    const branchesOnly = WORKFLOW.replace("    tags: ['v*.*.*']\n", '');
    expect(gh(branchesOnly, tag()).triggered).toBe(false);
    expect(gh(WORKFLOW.replace(/on:\n {2}push:\n.*\n.*\n/, 'on: [pull_request]\n'), branch()).triggered).toBe(false);
  });

  it('skips a job whose needs do not run', () => {
    const text = WORKFLOW.replace("    if: startsWith(github.ref, 'refs/tags/v')\n", '').replace("      - name: deploy", "      - name: deploy").replace('  build:\n', "  build:\n    if: github.ref_type == 'tag'\n");
    expect(ran(gh(text, branch()))).toEqual([]);
  });

  it.each([
    ['an unknown step key', WORKFLOW.replace('        run: make', '        run: make\n        working-directory: app'), /working-directory: not simulated/],
    ['an unknown job key', WORKFLOW.replace('  build:\n', '  build:\n    services: { db: { image: x } }\n'), /services: not simulated/],
    ['a secret in a script', WORKFLOW.replace('run: make', 'run: make ${{ secrets.KEY }}'), /readable here: github, vars/],
    ['a secret the test does not give', WORKFLOW.replace('secrets.KEY', 'secrets.OTHER'), /secrets.OTHER is not among what the test provides \(KEY\)/],
    ['a shell other than bash', WORKFLOW.replace('defaults: { run: { shell: bash } }\n', ''), /shell undefined: the test runs bash/],
    ['a cycle in needs', WORKFLOW.replace('  build:\n', '  build:\n    needs: deploy\n'), /a cycle in needs/],
    ['a filter pattern it cannot match', WORKFLOW.replace("'v*.*.*'", "'v[0-9]+'"), /only \* and \*\* are simulated/],
  ])('refuses %s', (_what, text, message) => {
    expect(() => gh(text, tag())).toThrow(message);
  });
});

const PIPELINE = `
stages: [build, deploy]
variables: { MODE: ci }
default:
  before_script:
    - export V=1
deploy:
  stage: deploy
  rules:
    - if: $CI_COMMIT_TAG =~ /^v\\d+\\.\\d+\\.\\d+/
  script:
    - cat "$KEY"
build:
  stage: build
  variables: { OWN: yes-own }
  script: [make, make test]
`;
const gl = (text: string, event: CiEvent, protectedRef = event.ref.kind === 'tag') =>
  planGitlab(text, { event, protectedRef, variables: { KEY: { value: 'key-value', file: true, protected: true }, PW: { value: 'pw-value' } } });

describe('planGitlab', () => {
  it('runs stages in order, and the tag job only on a matching tag', () => {
    expect(ran(gl(PIPELINE, branch()))).toEqual(['build: before_script + script']);
    expect(gl(PIPELINE, tag('v1.2.3')).jobs.map((j) => [j.name, j.runs])).toEqual([['build', true], ['deploy', true]]);
    expect(gl(PIPELINE, tag('latest')).jobs.map((j) => [j.name, j.runs])).toEqual([['build', true], ['deploy', false]]);
  });

  it('runs before_script and script in one shell, each command printed first', () => {
    const build = gl(PIPELINE, branch()).jobs[0]!;
    expect(build.steps[0]!.action).toEqual({ kind: 'bash', commands: ['export V=1', 'make', 'make test'], echo: true });
    expect(build.env).toMatchObject({ MODE: 'ci', OWN: 'yes-own', PW: 'pw-value', CI_COMMIT_BRANCH: 'main', CI_COMMIT_SHA: SHA, CI_JOB_NAME: 'build' });
    expect(build.env.CI_COMMIT_TAG).toBeUndefined();
  });

  it('hands File variables over as files, and protected ones only to protected refs', () => {
    expect(gl(PIPELINE, tag()).jobs[1]!.files).toEqual({ KEY: 'key-value' });
    expect(gl(PIPELINE, tag()).jobs[1]!.env.KEY).toBeUndefined();
    expect(gl(PIPELINE, branch(), false).jobs[0]!.files).toEqual({});
  });

  it('honours workflow rules', () => {
    const text = `workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\n${PIPELINE}`;
    expect(gl(text, branch()).triggered).toBe(false);
    expect(gl(text, tag()).triggered).toBe(true);
  });

  it.each([
    ['an image', `image: node:22\n${PIPELINE}`, /image: not simulated/],
    ['an unknown job key', PIPELINE.replace('  stage: build\n', '  stage: build\n  needs: []\n'), /needs: not simulated/],
    ['a manual job', PIPELINE.replace('/\n', '/\n      when: manual\n'), /manual is not simulated/],
    ['a stage not declared', PIPELINE.replace('stage: build', 'stage: test'), /test is not in stages/],
    ['a $ in variables', PIPELINE.replace('MODE: ci', 'MODE: $OTHER'), /a \$ reference in variables: is not simulated/],
    ['a malformed rule', PIPELINE.replace('=~ /^v', '=~ ^v'), /deploy\.rules\[0\]\.if: unexpected "\^"/],
  ])('refuses %s', (_what, text, message) => {
    expect(() => gl(text, tag())).toThrow(message);
  });
});

describe('evaluateRule', () => {
  const vars = { CI_COMMIT_TAG: 'v1.2.3', EMPTY: '', NAME: 'main' };
  it.each([
    ['$CI_COMMIT_TAG', true],
    ['$EMPTY', false],
    ['$MISSING', false],
    ['$MISSING == null', true],
    ['$CI_COMMIT_TAG != null', true],
    ['$NAME == "main"', true],
    ["$NAME == 'other'", false],
    ['$CI_COMMIT_TAG =~ /^v\\d+\\.\\d+\\.\\d+$/', true],
    ['$NAME =~ /^v/', false],
    ['$MISSING =~ /.*/', false],
    ['$NAME !~ /^v/', true],
    ['$NAME =~ /MAIN/i', true],
    ['$NAME == "main" && $MISSING', false],
    ['$MISSING || ${NAME} == "main"', true],
    ['($MISSING || $CI_COMMIT_TAG) && $NAME == "main"', true],
  ])('%s is %s', (rule, expected) => {
    expect(evaluateRule(rule, vars)).toBe(expected);
  });

  it.each(['$NAME ==', '$NAME = "x"', '($NAME', '$NAME =~ /x/g'])('refuses %s', (rule) => {
    expect(() => evaluateRule(rule, vars)).toThrow();
  });
});

describe('step files and stand-ins', () => {
  it('echoes GitLab commands quoted, so a command with quotes prints as written', () => {
    const script = bashScript({ kind: 'bash', commands: [`echo 'a' "b"`, 'true'], echo: true });
    expect(script).toBe(`printf '%s\\n' '$ echo '\\''a'\\'' "b"'\necho 'a' "b"\nprintf '%s\\n' '$ true'\ntrue\n`);
    expect(bashScript({ kind: 'bash', commands: ['a\nb'], echo: false })).toBe('a\nb\n');
  });

  it('reads $GITHUB_ENV lines and blocks, later ones winning, and $GITHUB_PATH last first', () => {
    expect(parseGithubEnv('A=1\nB=x=y\nM<<EOF\nline 1\nline 2\nEOF\nA=2\n')).toEqual({ A: '2', B: 'x=y', M: 'line 1\nline 2' });
    expect(() => parseGithubEnv('M<<EOF\nno end\n')).toThrow(/no closing EOF/);
    expect(() => parseGithubEnv('no equals sign\n')).toThrow(/cannot read the line/);
    expect(parseGithubPath('/a\n/b\n')).toEqual(['/b', '/a']);
  });

  it('stands in for checkout and setup-node only, and checks the Node line against the engines', () => {
    expect(standInFor('actions/checkout@v4', {}, 'here')).toEqual({ kind: 'checkout' });
    expect(standInFor('actions/setup-node@v4', { 'node-version': '22' }, 'here')).toEqual({ kind: 'node', requested: '22' });
    expect(() => standInFor('actions/cache@v4', {}, 'here')).toThrow(/uses actions\/cache@v4: the test has no stand-in/);
    expect(() => standInFor('actions/checkout@v4', { 'fetch-depth': '0' }, 'here')).toThrow(/fetch-depth: not simulated/);
    expect(() => standInFor('actions/setup-node@v4', {}, 'here')).toThrow(/without node-version/);
    expect(nodeLineProblem('22', '>=20', 'v20.1.0')).toBeUndefined();
    expect(nodeLineProblem('18', '>=20', 'v20.1.0')).toMatch(/node-version 18 .* outside gangway's engines >=20/);
    expect(nodeLineProblem('22', '>=20', 'v18.0.0')).toMatch(/this machine's Node v18.0.0/);
  });

  it('refuses an unknown action even in a step that does not run on this push', () => {
    const text = WORKFLOW.replace('        run: release', '        uses: actions/upload-artifact@v4');
    expect(() => checkStandIns(gh(text, branch()))).toThrow(/upload-artifact/);
  });
});
