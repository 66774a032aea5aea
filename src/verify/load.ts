// Where the checks come from: `verify:` in the loaded gangway.yml, or a file of its own
// (--file verify.yml, holding `roles:`/`hosts:` at its top or under `verify:`). Problems are
// reported like the config loader's: file:line:col, the key path, what was expected.
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { configError } from '../errors.js';
import { issueProblems, type PathProblem } from '../config/issues.js';
import type { LoadedConfig } from '../config/load.js';
import { problemsError, sortProblems, type KeyPath, type Problem } from '../config/problems.js';
import { lineCol, locate, parseSource, type ConfigSource } from '../config/source.js';
import { EMPTY_VERIFY_SPEC, verifySchema, type VerifySpec } from '../checks/spec.js';

export interface LoadedVerifySpec {
  spec: VerifySpec;
  /** The file the checks came from, as shown to the user. */
  fileName: string;
}

function displayName(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function place(sources: ConfigSource[], p: PathProblem): Problem {
  const found = locate(sources, p.path);
  if (!found) return { fileName: sources[0]!.fileName, line: 1, col: 1, path: p.path, message: p.message, severity: p.severity };
  const { line, col } = lineCol(found, found.depth === p.path.length ? p.at : 'key');
  return { fileName: found.source.fileName, line, col, path: p.path, message: p.message, severity: p.severity };
}

/** Roles and hosts named in the checks must exist in the config. */
function scopeProblems(spec: VerifySpec, loaded: Pick<LoadedConfig, 'roles'>, prefix: KeyPath): PathProblem[] {
  const roleNames = loaded.roles.map((r) => r.name);
  const hostNames = [...new Set(loaded.roles.flatMap((r) => r.hosts))];
  const problems: PathProblem[] = [];
  for (const role of Object.keys(spec.roles)) {
    if (!roleNames.includes(role)) problems.push({ path: [...prefix, 'roles', role], at: 'key', severity: 'error', message: `role ${JSON.stringify(role)} is not in servers (roles: ${roleNames.join(', ')})` });
  }
  for (const host of Object.keys(spec.hosts)) {
    if (!hostNames.includes(host)) problems.push({ path: [...prefix, 'hosts', host], at: 'key', severity: 'error', message: `host ${JSON.stringify(host)} is not a host of any role (hosts: ${hostNames.join(', ')})` });
  }
  return problems;
}

async function sourcesOf(files: string[], cwd: string): Promise<ConfigSource[]> {
  return Promise.all(files.map(async (f) => parseSource(f, displayName(f, cwd), await readFile(f, 'utf8'))));
}

/** The checks of gangway.yml (already validated by the config loader); scope problems placed in its files. */
export async function verifySpecFromConfig(loaded: LoadedConfig, cwd: string): Promise<LoadedVerifySpec> {
  const spec = (loaded.config as { verify?: VerifySpec }).verify ?? EMPTY_VERIFY_SPEC;
  const problems = scopeProblems(spec, loaded, ['verify']);
  if (problems.length > 0) {
    const sources = await sourcesOf(loaded.files, cwd);
    throw problemsError(sortProblems(problems.map((p) => place(sources, p)), sources.map((s) => s.fileName)));
  }
  return { spec, fileName: displayName(loaded.file, cwd) };
}

/** Reads and validates a verify file; throws a config error (exit 2) listing every problem. */
export async function loadVerifyFile(file: string, cwd: string, loaded: Pick<LoadedConfig, 'roles'>): Promise<LoadedVerifySpec> {
  const abs = resolve(cwd, file);
  const fileName = displayName(abs, cwd);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    throw configError(`${fileName}: cannot read the verify file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { step: 'verify' });
  }
  const source = parseSource(abs, fileName, text);
  if (source.yamlProblems.length > 0) throw problemsError(source.yamlProblems);
  const raw = source.value ?? {};
  const nested = raw !== null && typeof raw === 'object' && !Array.isArray(raw) && 'verify' in raw;
  const prefix: KeyPath = nested ? ['verify'] : [];
  const input = nested ? (raw as Record<string, unknown>).verify : raw;
  const parsed = verifySchema.safeParse(input);
  const problems: PathProblem[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      for (const p of issueProblems(issue, input, verifySchema)) problems.push({ ...p, path: [...prefix, ...p.path] });
    }
  } else {
    problems.push(...scopeProblems(parsed.data, loaded, prefix));
  }
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0 || !parsed.success) throw problemsError(sortProblems(errors.map((p) => place([source], p)), [fileName]));
  return { spec: parsed.data, fileName };
}
