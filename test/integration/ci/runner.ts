// Runs a planned pipeline the way its CI would, on this machine: every job in a fresh workspace,
// home and temp folder, with the CI's environment and nothing of the test process's own (no
// SSH_AUTH_SOCK, no real ~/.ssh), each bash step bounded in time, `uses:` replaced by its stand-in.
// `npm install --global` of the recipe's GANGWAY_PACKAGE is stood in for too: it installs a
// launcher of this checkout's bin/gangway.js, so `gangway` resolves only after a job installed it.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { shellQuote } from '../../../src/state/shell.js';
import type { PlannedJob, PlannedStep, Pipeline } from './pipeline.js';
import { bashScript, parseGithubEnv, parseGithubPath } from './step-files.js';
import { checkStandIns, nodeLineProblem, standInFor } from './stand-ins.js';

export interface StepResult {
  job: string;
  step: string;
  code: number;
  output: string;
  ms: number;
}

export interface RunOptions {
  /** The repository a checkout clones (a local git folder) and the commit it checks out. */
  repo: string;
  sha: string;
  /** Where the jobs' folders go. */
  workDir: string;
  /** What `npm install --global` must be asked to install: the recipe's GANGWAY_PACKAGE. */
  gangwayPackage: string;
  /** bin/gangway.js of this checkout. */
  gangwayBin: string;
  /** gangway's package.json engines.node. */
  nodeEngines: string;
  stepTimeoutMs: number;
  /** Called after each step (progress for the test's log). */
  onStep?: (r: StepResult) => void;
}

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The stand-in npm: only `npm install --global [--prefix DIR] <GANGWAY_PACKAGE>`. */
function npmShim(expected: string, launcher: string): string {
  return `#!/bin/bash
# npm as the CI recipe test stands it in: installing the recipe's GANGWAY_PACKAGE globally puts
# this checkout's gangway on the prefix's bin; anything else fails, naming what it was asked.
set -eu
fail() { echo "npm (the recipe test's stand-in): $*" >&2; exit 127; }
expected=${shellQuote(expected)}
[ "\${1:-}" = install ] || [ "\${1:-}" = i ] || fail "npm $*: only npm install --global is simulated"
shift
global=false; prefix="\${NPM_CONFIG_PREFIX:?}"; packages=()
while [ $# -gt 0 ]; do
  case "$1" in
    -g|--global) global=true ;;
    --prefix) prefix="$2"; shift ;;
    --prefix=*) prefix="\${1#--prefix=}" ;;
    -*) fail "npm install $1: not simulated" ;;
    *) packages+=("$1") ;;
  esac
  shift
done
[ "$global" = true ] || fail "only --global installs are simulated"
[ "\${#packages[@]}" -eq 1 ] && [ "\${packages[0]}" = "$expected" ] || fail "asked to install '\${packages[*]:-}', the test provides gangway as '$expected'"
mkdir -p "$prefix/bin"
install -m 755 ${shellQuote(launcher)} "$prefix/bin/gangway"
echo "added gangway ($expected, this checkout's build) to $prefix/bin"
`;
}

interface JobFolders {
  root: string;
  home: string;
  temp: string;
  workspace: string;
  npmPrefix: string;
  githubEnv: string;
  githubPath: string;
}

function jobFolders(workDir: string): JobFolders {
  const root = mkdtempSync(join(workDir, 'job-'));
  const f: JobFolders = {
    root,
    home: join(root, 'home'),
    temp: join(root, 'temp'),
    workspace: join(root, 'workspace'),
    npmPrefix: join(root, 'npm-global'),
    githubEnv: join(root, 'github_env'),
    githubPath: join(root, 'github_path'),
  };
  for (const dir of [f.home, f.temp, f.workspace, join(f.npmPrefix, 'bin')]) mkdirSync(dir, { recursive: true });
  writeFileSync(f.githubEnv, '');
  writeFileSync(f.githubPath, '');
  return f;
}

/** Runs a command in its own process group, killed (TERM, then KILL) when it outlives timeoutMs. */
function runProcess(command: string, args: string[], opts: { cwd: string; env: Record<string, string>; timeoutMs: number }): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { output += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { output += c; });
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      output += `\n[recipe test: killed after ${opts.timeoutMs} ms]\n`;
      const group = (signal: NodeJS.Signals) => { try { process.kill(-child.pid!, signal); } catch { /* gone */ } };
      group('SIGTERM');
      killer = setTimeout(() => group('SIGKILL'), 5000);
    }, opts.timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killer) clearTimeout(killer);
      resolve({ code: code ?? (signal ? 128 : 1), output });
    });
  });
}

class JobRun {
  private readonly f: JobFolders;
  constructor(private readonly job: PlannedJob, private readonly ci: Pipeline['ci'], private readonly opts: RunOptions, private readonly shims: string) {
    this.f = jobFolders(opts.workDir);
  }

  /** The environment of a step: the CI's, then what earlier steps exported through $GITHUB_ENV, then the step's. */
  private env(step: PlannedStep): Record<string, string> {
    const f = this.f;
    const exported = this.job.githubEnvFile ? parseGithubEnv(readFileSync(f.githubEnv, 'utf8')) : {};
    const added = this.job.githubEnvFile ? parseGithubPath(readFileSync(f.githubPath, 'utf8')) : [];
    const files = Object.fromEntries(Object.entries(this.job.files).map(([name, content]) => {
      const path = join(f.root, 'variables', name);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, content, { mode: 0o600 });
      return [name, path];
    }));
    const paths: Record<string, string> = this.ci === 'github'
      ? { GITHUB_WORKSPACE: f.workspace, RUNNER_TEMP: f.temp, GITHUB_ENV: f.githubEnv, GITHUB_PATH: f.githubPath }
      : { CI_PROJECT_DIR: f.workspace, CI_BUILDS_DIR: dirname(f.workspace) };
    const path = [...added, join(f.npmPrefix, 'bin'), this.shims, dirname(process.execPath), SYSTEM_PATH].join(':');
    return {
      HOME: f.home,
      TMPDIR: f.temp,
      LANG: 'C.UTF-8',
      USER: process.env.USER ?? 'root',
      NPM_CONFIG_PREFIX: f.npmPrefix,
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      ...this.job.env,
      ...files,
      ...paths,
      ...exported,
      ...step.env,
      PATH: path,
    };
  }

  private async checkout(): Promise<{ code: number; output: string }> {
    const git = (args: string[]) => runProcess('git', args, { cwd: this.f.root, env: { PATH: SYSTEM_PATH, HOME: this.f.home }, timeoutMs: 60_000 });
    const clone = await git(['clone', '--quiet', this.opts.repo, this.f.workspace]);
    if (clone.code !== 0) return clone;
    const co = await git(['-C', this.f.workspace, 'checkout', '--quiet', '--detach', this.opts.sha]);
    return { code: co.code, output: `${clone.output}${co.output}stand-in: cloned ${this.opts.repo} at ${this.opts.sha}\n` };
  }

  private async step(step: PlannedStep): Promise<{ code: number; output: string }> {
    const action = step.action;
    if (action.kind === 'uses') {
      const standIn = standInFor(action.action, action.with, `${this.job.name}: ${step.name}`);
      if (standIn.kind === 'checkout') return this.checkout();
      const problem = nodeLineProblem(standIn.requested, this.opts.nodeEngines, process.version);
      return problem ? { code: 1, output: `stand-in: ${problem}\n` } : { code: 0, output: `stand-in: Node ${process.version} of this machine for node-version ${standIn.requested}\n` };
    }
    const script = join(this.f.root, `step-${Date.now().toString(36)}.sh`);
    writeFileSync(script, bashScript(action), { mode: 0o700 });
    // GitHub's `shell: bash` and GitLab's bash: stop at the first failing command, pipes included.
    return runProcess('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { cwd: this.f.workspace, env: this.env(step), timeoutMs: this.opts.stepTimeoutMs });
  }

  /** Runs the job's steps until one fails; the results of those that ran. */
  async run(): Promise<StepResult[]> {
    const results: StepResult[] = [];
    // GitLab's runner fetches the repository before the job's script; GitHub leaves it to a step.
    if (this.ci === 'gitlab') {
      const r = await this.checkout();
      results.push({ job: this.job.name, step: '(fetch the repository)', code: r.code, output: r.output, ms: 0 });
      if (r.code !== 0) return results;
    }
    for (const step of this.job.steps) {
      if (!step.runs) continue;
      const started = Date.now();
      const r = await this.step(step);
      const result = { job: this.job.name, step: step.name, code: r.code, output: r.output, ms: Date.now() - started };
      results.push(result);
      this.opts.onStep?.(result);
      if (r.code !== 0) break;
    }
    return results;
  }
}

/** Runs every job that runs on this push, in order, until a step fails; every step's result. */
export async function runPipeline(pipeline: Pipeline, opts: RunOptions): Promise<StepResult[]> {
  checkStandIns(pipeline);
  const shims = mkdtempSync(join(opts.workDir, 'shims-'));
  const launcher = join(mkdtempSync(join(opts.workDir, 'launcher-')), 'gangway');
  writeFileSync(launcher, `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(opts.gangwayBin)} "$@"\n`);
  writeFileSync(join(shims, 'npm'), npmShim(opts.gangwayPackage, launcher));
  chmodSync(join(shims, 'npm'), 0o755);
  const results: StepResult[] = [];
  if (!pipeline.triggered) return results;
  for (const job of pipeline.jobs) {
    if (!job.runs) continue;
    const jobResults = await new JobRun(job, pipeline.ci, opts, shims).run();
    results.push(...jobResults);
    if (jobResults.some((r) => r.code !== 0)) break;
  }
  return results;
}
