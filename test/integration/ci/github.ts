// A GitHub Actions workflow as the runner would run it for one push: whether the push triggers
// it, the jobs in `needs` order, each job's `if:` and each step's `if:` evaluated by GitHub's own
// expression library, `${{ }}` in env, with and run evaluated. Pure.
import { Evaluator, Lexer, Parser, data, type Expr } from '@actions/expressions';
import { falsy } from '@actions/expressions/result';
import { parse } from 'yaml';
import { isRecord, onlyKeys, RecipeError, stringMap, type CiEvent, type Pipeline, type PlannedJob, type PlannedStep } from './pipeline.js';

export interface GithubInputs {
  event: CiEvent;
  /** Repository (and environment) secrets. A recipe naming one the test does not give fails. */
  secrets: Record<string, string>;
  /** Repository variables (`vars`). */
  vars: Record<string, string>;
}

const WORKFLOW_KEYS = ['name', 'run-name', 'on', 'permissions', 'defaults', 'env', 'concurrency', 'jobs'];
const JOB_KEYS = ['name', 'runs-on', 'needs', 'if', 'steps', 'env', 'environment', 'concurrency', 'permissions', 'timeout-minutes', 'defaults'];
const STEP_KEYS = ['name', 'id', 'if', 'uses', 'with', 'run', 'env', 'shell', 'timeout-minutes'];
const PUSH_FILTER_KEYS = ['branches', 'branches-ignore', 'tags', 'tags-ignore'];

// Every step the test runs passed (it stops at the first failure), so the status functions are
// known when a condition is read: the run so far succeeded.
const STATUS: Record<string, boolean> = { success: true, always: true, failure: false, cancelled: false };
const STATUS_INFO = Object.keys(STATUS).map((name) => ({ name, minArgs: 0, maxArgs: 0 }));
const STATUS_FUNCTIONS = new Map(Object.entries(STATUS).map(([name, value]) => [name, { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(value) }]));

/** Which contexts an expression may read where it stands. */
type Scope = 'condition' | 'env' | 'script';
const CONTEXTS: Record<Scope, string[]> = {
  condition: ['github', 'vars'],
  env: ['github', 'vars', 'secrets'],
  // A secret in the script's text would be in the script file on the runner, and in the log when
  // GitHub fails to mask it: recipes pass secrets through env: only.
  script: ['github', 'vars'],
};

const fromJson = (value: unknown): data.ExpressionData => JSON.parse(JSON.stringify(value), data.reviver) as data.ExpressionData;

function contextOf(inputs: GithubInputs): data.Dictionary {
  const { event } = inputs;
  const ref = `refs/${event.ref.kind === 'tag' ? 'tags' : 'heads'}/${event.ref.name}`;
  return new data.Dictionary(
    { key: 'github', value: fromJson({ ref, ref_name: event.ref.name, ref_type: event.ref.kind, sha: event.sha, event_name: 'push', repository: event.repository }) },
    { key: 'vars', value: fromJson(inputs.vars) },
    { key: 'secrets', value: fromJson(inputs.secrets) },
  );
}

/** The environment GitHub gives every step of a push run (the runner adds the paths). */
function defaultEnv(event: CiEvent, job: string): Record<string, string> {
  return {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REF: `refs/${event.ref.kind === 'tag' ? 'tags' : 'heads'}/${event.ref.name}`,
    GITHUB_REF_NAME: event.ref.name,
    GITHUB_REF_TYPE: event.ref.kind,
    GITHUB_SHA: event.sha,
    GITHUB_REPOSITORY: event.repository,
    GITHUB_RUN_ID: '1',
    GITHUB_JOB: job,
  };
}

class Expressions {
  private readonly context: data.Dictionary;
  constructor(private readonly inputs: GithubInputs) {
    this.context = contextOf(inputs);
  }

  evaluate(text: string, scope: Scope, where: string): data.ExpressionData {
    for (const m of text.matchAll(/\b(secrets|vars)\s*(\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[)/g)) {
      const [, kind, , name] = m;
      if (!name) throw new RecipeError(where, `${kind}[...]: only ${kind}.NAME is simulated`);
      if (!CONTEXTS[scope].includes(kind!)) continue; // the parser refuses it below, naming the context
      const given = kind === 'secrets' ? this.inputs.secrets : this.inputs.vars;
      if (!(name in given)) throw new RecipeError(where, `${kind}.${name} is not among what the test provides (${Object.keys(given).join(', ') || 'none'})`);
    }
    let expr: Expr;
    try {
      expr = new Parser(new Lexer(text).lex().tokens, CONTEXTS[scope], STATUS_INFO).parse();
    } catch (err) {
      throw new RecipeError(where, `${text}: ${(err as Error).message} (readable here: ${CONTEXTS[scope].join(', ')})`);
    }
    return new Evaluator(expr, this.context, STATUS_FUNCTIONS).evaluate();
  }

  /** A string with `${{ }}` parts, each replaced by its value. */
  template(text: string, scope: Scope, where: string): string {
    return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_all, inner: string) => this.evaluate(inner.trim(), scope, where).coerceString());
  }

  /** An `if:`, written bare or as one `${{ }}`. */
  condition(text: unknown, where: string): boolean {
    if (typeof text === 'boolean') return text;
    if (typeof text !== 'string') throw new RecipeError(where, 'expected an expression');
    const whole = /^\s*\$\{\{([\s\S]*)\}\}\s*$/.exec(text);
    return !falsy(this.evaluate((whole ? whole[1]! : text).trim(), 'condition', where));
  }

  env(value: unknown, where: string): Record<string, string> {
    return Object.fromEntries(Object.entries(stringMap(value, where)).map(([k, v]) => [k, this.template(v, 'env', `${where}.${k}`)]));
  }
}

/** GitHub's filter patterns, as far as the test simulates them: `*` (not across /) and `**`. */
function filterMatches(pattern: string, name: string, where: string): boolean {
  if (/[?+[\]!]/.test(pattern)) throw new RecipeError(where, `pattern ${pattern}: only * and ** are simulated`);
  const re = pattern.split(/(\*\*|\*)/).map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.^$|(){}\\]/g, '\\$&'))).join('');
  return new RegExp(`^${re}$`).test(name);
}

const listOf = (value: unknown, where: string): string[] => {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) throw new RecipeError(where, 'expected a list of names');
  return list as string[];
};

/** Whether `on:` runs the workflow for this push (branch and tag filters). */
function triggers(on: unknown, event: CiEvent): boolean {
  if (typeof on === 'string') return on === 'push';
  if (Array.isArray(on)) return on.includes('push');
  if (!isRecord(on)) throw new RecipeError('on', 'expected an event, a list or a mapping');
  if (!('push' in on)) return false;
  const push = on.push ?? {};
  if (!isRecord(push)) throw new RecipeError('on.push', 'expected a mapping');
  onlyKeys(push, PUSH_FILTER_KEYS, 'on.push');
  const [include, exclude] = event.ref.kind === 'tag' ? ['tags', 'tags-ignore'] : ['branches', 'branches-ignore'];
  const [otherInclude, otherExclude] = event.ref.kind === 'tag' ? ['branches', 'branches-ignore'] : ['tags', 'tags-ignore'];
  const filtered = include in push || exclude in push;
  // Filters on the other kind of ref only: this kind is not pushed to the workflow at all.
  if (!filtered) return !(otherInclude in push || otherExclude in push);
  if (include in push) return listOf(push[include], `on.push.${include}`).some((p) => filterMatches(p, event.ref.name, `on.push.${include}`));
  return !listOf(push[exclude], `on.push.${exclude}`).some((p) => filterMatches(p, event.ref.name, `on.push.${exclude}`));
}

/** Jobs in an order that honours `needs` (declaration order among the ready ones). */
function orderByNeeds(jobs: Record<string, Record<string, unknown>>): string[] {
  const needs = new Map(Object.entries(jobs).map(([id, job]) => [id, job.needs === undefined ? [] : listOf(job.needs, `jobs.${id}.needs`)]));
  for (const [id, list] of needs) {
    for (const n of list) if (!needs.has(n)) throw new RecipeError(`jobs.${id}.needs`, `no job ${n}`);
  }
  const order: string[] = [];
  while (order.length < needs.size) {
    const ready = [...needs.keys()].find((id) => !order.includes(id) && needs.get(id)!.every((n) => order.includes(n)));
    if (!ready) throw new RecipeError('jobs', `a cycle in needs among ${[...needs.keys()].filter((id) => !order.includes(id)).join(', ')}`);
    order.push(ready);
  }
  return order;
}

function bashShell(shell: unknown, where: string): void {
  if (shell !== 'bash') throw new RecipeError(where, `shell ${String(shell)}: the test runs bash as GitHub's \`shell: bash\` does; say shell: bash (or set defaults.run.shell)`);
}

function planStep(raw: unknown, index: number, jobId: string, defaultShell: unknown, x: Expressions): PlannedStep {
  const where = `jobs.${jobId}.steps[${index}]`;
  if (!isRecord(raw)) throw new RecipeError(where, 'expected a mapping');
  onlyKeys(raw, STEP_KEYS, where);
  const hasRun = typeof raw.run === 'string';
  const hasUses = typeof raw.uses === 'string';
  if (hasRun === hasUses) throw new RecipeError(where, 'expected exactly one of run: and uses:');
  const env = x.env(raw.env, `${where}.env`);
  const runs = raw.if === undefined ? true : x.condition(raw.if, `${where}.if`);
  const condition = raw.if === undefined ? {} : { condition: String(raw.if) };
  if (hasRun) {
    bashShell(raw.shell ?? defaultShell, `${where}.shell`);
    const script = x.template(raw.run as string, 'script', `${where}.run`);
    const name = typeof raw.name === 'string' ? raw.name : `run ${script.split('\n')[0]}`;
    return { name, action: { kind: 'bash', commands: [script], echo: false }, env, runs, ...condition };
  }
  if (raw.shell !== undefined) throw new RecipeError(`${where}.shell`, 'shell: goes with run:, not uses:');
  const withValues = Object.fromEntries(Object.entries(stringMap(raw.with, `${where}.with`)).map(([k, v]) => [k, x.template(v, 'env', `${where}.with.${k}`)]));
  const name = typeof raw.name === 'string' ? raw.name : `uses ${raw.uses as string}`;
  return { name, action: { kind: 'uses', action: raw.uses as string, with: withValues }, env, runs, ...condition };
}

function runShellOf(defaults: unknown, where: string): unknown {
  if (defaults === undefined) return undefined;
  if (!isRecord(defaults)) throw new RecipeError(where, 'expected a mapping');
  onlyKeys(defaults, ['run'], where);
  if (!isRecord(defaults.run)) throw new RecipeError(`${where}.run`, 'expected a mapping');
  onlyKeys(defaults.run, ['shell'], `${where}.run`);
  return defaults.run.shell;
}

export function planGithub(text: string, inputs: GithubInputs): Pipeline {
  const doc: unknown = parse(text);
  if (!isRecord(doc)) throw new RecipeError('workflow', 'expected a mapping');
  onlyKeys(doc, WORKFLOW_KEYS, 'workflow');
  if (!isRecord(doc.jobs)) throw new RecipeError('jobs', 'expected a mapping');
  const jobs = doc.jobs as Record<string, unknown>;
  for (const [id, job] of Object.entries(jobs)) {
    if (!isRecord(job)) throw new RecipeError(`jobs.${id}`, 'expected a mapping');
    onlyKeys(job, JOB_KEYS, `jobs.${id}`);
    if (!Array.isArray(job.steps)) throw new RecipeError(`jobs.${id}.steps`, 'expected a list');
  }
  const x = new Expressions(inputs);
  const workflowEnv = x.env(doc.env, 'env');
  const workflowShell = runShellOf(doc.defaults, 'defaults');
  const planned = new Map<string, PlannedJob>();
  for (const id of orderByNeeds(jobs as Record<string, Record<string, unknown>>)) {
    const job = jobs[id] as Record<string, unknown>;
    const needs = job.needs === undefined ? [] : listOf(job.needs, `jobs.${id}.needs`);
    const ownCondition = job.if === undefined ? true : x.condition(job.if, `jobs.${id}.if`);
    const shell = runShellOf(job.defaults, `jobs.${id}.defaults`) ?? workflowShell;
    planned.set(id, {
      name: typeof job.name === 'string' ? job.name : id,
      runs: ownCondition && needs.every((n) => planned.get(n)!.runs),
      ...(job.if === undefined ? {} : { condition: String(job.if) }),
      env: { ...defaultEnv(inputs.event, id), ...workflowEnv, ...x.env(job.env, `jobs.${id}.env`) },
      files: {},
      steps: (job.steps as unknown[]).map((s, i) => planStep(s, i, id, shell, x)),
      githubEnvFile: true,
    });
  }
  return { ci: 'github', triggered: triggers(doc.on, inputs.event), jobs: [...planned.values()] };
}
