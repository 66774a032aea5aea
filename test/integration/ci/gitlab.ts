// A GitLab CI pipeline as GitLab would run it for one push: workflow rules, then the jobs stage
// by stage (declaration order within a stage), each job's rules, its before_script (or the
// default's) and script in one shell, with GitLab's predefined variables, the pipeline's
// variables and the project's CI/CD variables (File ones as files; protected ones only on
// protected refs). Pure.
import { parse } from 'yaml';
import { evaluateRule, RuleError } from './gitlab-rules.js';
import { isRecord, onlyKeys, RecipeError, stringMap, type CiEvent, type Pipeline, type PlannedJob } from './pipeline.js';

/** A project's CI/CD variable (Settings > CI/CD > Variables). */
export interface GitlabVariable {
  value: string;
  /** Type File: the variable holds the path of a file with the value. */
  file?: boolean;
  /** Only pipelines of protected branches and tags get it. */
  protected?: boolean;
}

export interface GitlabInputs {
  event: CiEvent;
  variables: Record<string, GitlabVariable>;
  /** Whether the pushed branch or tag is protected. */
  protectedRef: boolean;
}

const TOP_KEYS = ['stages', 'variables', 'default', 'workflow'];
const NOT_JOBS = ['include', 'image', 'services', 'cache', 'before_script', 'after_script', 'pages'];
const DEFAULT_KEYS = ['before_script', 'tags', 'interruptible', 'timeout'];
const JOB_KEYS = ['stage', 'script', 'before_script', 'rules', 'variables', 'environment', 'resource_group', 'tags', 'interruptible', 'timeout'];
const RULE_KEYS = ['if', 'when'];
const DEFAULT_STAGES = ['build', 'test', 'deploy'];

function predefined(event: CiEvent, protectedRef: boolean): Record<string, string> {
  return {
    CI: 'true',
    GITLAB_CI: 'true',
    CI_PIPELINE_SOURCE: 'push',
    CI_PIPELINE_ID: '1',
    CI_PROJECT_PATH: event.repository,
    CI_DEFAULT_BRANCH: 'main',
    CI_COMMIT_SHA: event.sha,
    CI_COMMIT_SHORT_SHA: event.sha.slice(0, 8),
    CI_COMMIT_REF_NAME: event.ref.name,
    CI_COMMIT_REF_PROTECTED: String(protectedRef),
    ...(event.ref.kind === 'tag' ? { CI_COMMIT_TAG: event.ref.name } : { CI_COMMIT_BRANCH: event.ref.name }),
  };
}

/** The pipeline's own `variables:`; `$` in a value would be expanded by GitLab, which the test does not simulate. */
function pipelineVariables(value: unknown, where: string): Record<string, string> {
  const vars = stringMap(value, where);
  for (const [k, v] of Object.entries(vars)) {
    if (v.includes('$')) throw new RecipeError(`${where}.${k}`, 'a $ reference in variables: is not simulated');
  }
  return vars;
}

function commands(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) throw new RecipeError(where, 'expected a list of commands');
  // Nested lists (from YAML anchors) are flattened, as GitLab does.
  const flat = list.flat(1);
  if (!flat.every((c) => typeof c === 'string')) throw new RecipeError(where, 'expected a list of commands');
  return flat as string[];
}

/** Whether rules let a job (or the pipeline) run; no rules at all means it runs. */
function rulesAllow(rules: unknown, variables: Record<string, string>, where: string): { runs: boolean; condition?: string } {
  if (rules === undefined) return { runs: true };
  if (!Array.isArray(rules)) throw new RecipeError(where, 'expected a list of rules');
  for (const [i, rule] of rules.entries()) {
    if (!isRecord(rule)) throw new RecipeError(`${where}[${i}]`, 'expected a mapping');
    onlyKeys(rule, RULE_KEYS, `${where}[${i}]`);
    const when = rule.when ?? 'on_success';
    if (!['on_success', 'always', 'never'].includes(String(when))) throw new RecipeError(`${where}[${i}].when`, `${String(when)} is not simulated (on_success, always, never)`);
    let matches = true;
    if (rule.if !== undefined) {
      if (typeof rule.if !== 'string') throw new RecipeError(`${where}[${i}].if`, 'expected an expression');
      try {
        matches = evaluateRule(rule.if, variables);
      } catch (err) {
        if (err instanceof RuleError) throw new RecipeError(`${where}[${i}].if`, err.message);
        throw err;
      }
    }
    if (matches) return { runs: when !== 'never', ...(typeof rule.if === 'string' ? { condition: rule.if } : {}) };
  }
  return { runs: false, condition: rules.map((r) => (isRecord(r) && typeof r.if === 'string' ? r.if : '(rule)')).join(' | ') };
}

export function planGitlab(text: string, inputs: GitlabInputs): Pipeline {
  const doc: unknown = parse(text, { merge: true });
  if (!isRecord(doc)) throw new RecipeError('.gitlab-ci.yml', 'expected a mapping');
  for (const key of NOT_JOBS) if (key in doc) throw new RecipeError(key, 'not simulated by the recipe test');
  const stages = doc.stages === undefined ? DEFAULT_STAGES : commands(doc.stages, 'stages');
  const allStages = ['.pre', ...stages, '.post'];
  const defaults = doc.default ?? {};
  if (!isRecord(defaults)) throw new RecipeError('default', 'expected a mapping');
  onlyKeys(defaults, DEFAULT_KEYS, 'default');

  const settings = Object.entries(inputs.variables).filter(([, v]) => !v.protected || inputs.protectedRef);
  const base = { ...predefined(inputs.event, inputs.protectedRef), ...pipelineVariables(doc.variables, 'variables') };
  const settingsEnv = Object.fromEntries(settings.filter(([, v]) => !v.file).map(([k, v]) => [k, v.value]));
  const files = Object.fromEntries(settings.filter(([, v]) => v.file).map(([k, v]) => [k, v.value]));
  // What rules see: GitLab gives them every variable; a File variable's is its path, unknown here.
  const ruleView = (own: Record<string, string>) => ({ ...base, ...settingsEnv, ...Object.fromEntries(Object.keys(files).map((k) => [k, `(file ${k})`])), ...own });

  const workflow = doc.workflow ?? {};
  if (!isRecord(workflow)) throw new RecipeError('workflow', 'expected a mapping');
  onlyKeys(workflow, ['rules'], 'workflow');
  const triggered = rulesAllow(workflow.rules, ruleView({}), 'workflow.rules').runs;

  const jobs: Array<PlannedJob & { stageIndex: number; order: number }> = [];
  for (const [id, raw] of Object.entries(doc)) {
    if (TOP_KEYS.includes(id) || id.startsWith('.')) continue;
    if (!isRecord(raw)) throw new RecipeError(id, 'expected a job (a mapping)');
    onlyKeys(raw, JOB_KEYS, id);
    const stage = typeof raw.stage === 'string' ? raw.stage : 'test';
    const stageIndex = allStages.indexOf(stage);
    if (stageIndex < 0) throw new RecipeError(`${id}.stage`, `${stage} is not in stages (${stages.join(', ')})`);
    const own = pipelineVariables(raw.variables, `${id}.variables`);
    const allowed = rulesAllow(raw.rules, ruleView(own), `${id}.rules`);
    const script = commands(raw.script, `${id}.script`);
    if (script.length === 0) throw new RecipeError(`${id}.script`, 'a job needs a script');
    const before = commands(raw.before_script ?? defaults.before_script, `${id}.before_script`);
    jobs.push({
      name: id,
      runs: triggered && allowed.runs,
      ...(allowed.condition ? { condition: allowed.condition } : {}),
      env: { ...base, ...settingsEnv, ...own, CI_JOB_NAME: id, CI_JOB_STAGE: stage },
      files,
      // before_script and script are one shell in GitLab: an export or a trap carries over.
      steps: [{ name: 'before_script + script', action: { kind: 'bash', commands: [...before, ...script], echo: true }, env: {}, runs: true }],
      githubEnvFile: false,
      stageIndex,
      order: jobs.length,
    });
  }
  jobs.sort((a, b) => a.stageIndex - b.stageIndex || a.order - b.order);
  return { ci: 'gitlab', triggered, jobs: jobs.map(({ stageIndex: _s, order: _o, ...job }) => job) };
}
