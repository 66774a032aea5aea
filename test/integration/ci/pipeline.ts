// What the CI recipe test runs: a recipe (a GitHub workflow, a GitLab pipeline) turned into the
// jobs and steps its CI would run for one push, in order, each step either a bash script or an
// action that the test stands in for. Pure data; github.ts and gitlab.ts build it, runner.ts
// runs it.

/** The push the test simulates: a branch or a tag, at a commit. */
export interface CiEvent {
  ref: { kind: 'branch' | 'tag'; name: string };
  sha: string;
  /** owner/name (GitHub) or group/name (GitLab) */
  repository: string;
}

export type StepAction =
  /**
   * Commands run by one bash process (`bash --noprofile --norc -eo pipefail`), stopping at the
   * first failure. `echo`: print each command as `$ command` before it runs, as GitLab does.
   */
  | { kind: 'bash'; commands: string[]; echo: boolean }
  /** A GitHub action; runner.ts stands in for the ones it knows. */
  | { kind: 'uses'; action: string; with: Record<string, string> };

export interface PlannedStep {
  name: string;
  action: StepAction;
  /** The step's own environment, expressions evaluated (a GitHub step's `env:`). */
  env: Record<string, string>;
  runs: boolean;
  /** The condition as written, when there is one. */
  condition?: string;
}

export interface PlannedJob {
  name: string;
  runs: boolean;
  condition?: string;
  /** Environment of every step of the job: the CI's own variables, the recipe's, the settings'. */
  env: Record<string, string>;
  /** Variables the CI hands over as files: the variable holds the path of a file with this content. */
  files: Record<string, string>;
  steps: PlannedStep[];
  /** GitHub: a step appends KEY=value lines to $GITHUB_ENV for the steps after it. */
  githubEnvFile: boolean;
}

export interface Pipeline {
  ci: 'github' | 'gitlab';
  /** false when the recipe does not run on this push at all (its triggers or workflow rules). */
  triggered: boolean;
  jobs: PlannedJob[];
}

/** A recipe the test cannot simulate faithfully: it says where and what, so nothing slips in unrun. */
export class RecipeError extends Error {
  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = 'RecipeError';
  }
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Refuses keys the test does not simulate: a new construct must be taught to it, not ignored. */
export function onlyKeys(value: Record<string, unknown>, known: readonly string[], where: string): void {
  const unknown = Object.keys(value).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new RecipeError(where, `${unknown.join(', ')}: not simulated by the recipe test (it knows ${known.join(', ')})`);
}

/** A mapping of scalars as environment strings (YAML numbers and booleans become their text). */
export function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new RecipeError(where, 'expected a mapping of names to values');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new RecipeError(`${where}.${k}`, 'expected a string, number or boolean');
    out[k] = String(v);
  }
  return out;
}
