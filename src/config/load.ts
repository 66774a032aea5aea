// Loads gangway.yml: YAML with positions, ${VAR} from the environment and .gangway/secrets,
// an optional destination overlay, schema validation and semantic checks. Every problem of a
// run is reported at once, each naming file:line:col and the key path.
import { readFile, stat } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { configError } from '../errors.js';
import { interpolateValue, isPlainObject, makeLookup, type BadReference, type UsedVar } from './interpolate.js';
import { issueProblems, type PathProblem } from './issues.js';
import { deepMerge } from './merge.js';
import { formatProblem, problemsError, sortProblems, type KeyPath, type Problem } from './problems.js';
import { expandPath, resolveConfig, type HostTarget, type ResolvedRole } from './resolve.js';
import type { ConnectionContext, HostConnection } from './connection.js';
import { parseSshConfig, type SshConfigFile } from './ssh-config.js';
import { configSchema, type Config } from './schema.js';
import { indexSecrets, shortSecretProblems, valueTeller, type SecretSink } from './secret-values.js';
import { semanticProblems } from './semantics.js';
import { lineCol, locate, parseSource, pathKey, type ConfigSource } from './source.js';

export interface LoadOptions {
  /** Config file, absolute or relative to cwd. */
  file: string;
  /**
   * The config file's text, when the caller holds it and the file need not exist (rehearse's
   * config for its throwaway hosts): `file` then only names it in messages and places .gangway/.
   */
  text?: string;
  /** Merge gangway.<destination>.yml (next to the file) over it. */
  destination?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /**
   * Gets every secret value as soon as interpolation has made them known, before the config is
   * validated: whatever this load throws is printed through it (a command passes its Events).
   */
  redactor?: SecretSink;
}

export interface LoadedConfig {
  config: Config;
  /** The base config file, absolute. */
  file: string;
  /** Every config file read, base first (absolute). The secrets file is not among them. */
  files: string[];
  baseDir: string;
  destination?: string;
  /** Absolute path of .gangway/secrets (which may not exist). */
  secretsFile: string;
  /**
   * Secret values by name: every env.secret name, every variable interpolated from
   * .gangway/secrets, and the registry password (by its variable name, else "registry.password").
   * Each is at least MIN_SECRET_LENGTH long (shorter ones are refused). LoadOptions.redactor got
   * them all before validation.
   */
  secrets: Record<string, string>;
  /** Primary role first. */
  roles: ResolvedRole[];
  /** Every distinct host of the roles, in roles order. */
  hostTargets: HostTarget[];
  /** Per host: where each connection setting came from (`gangway config` shows them). */
  connections: HostConnection[];
  /** What resolved the hosts' connections (the ssh config file read, the ssh.* keys set): hosts named later (accessories) use it too. */
  connectionContext: ConnectionContext;
  /** Formatted like errors ("file:line:col warning: ..."); commands log them. */
  warnings: string[];
}

const DESTINATION_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** gangway.yml + staging -> gangway.staging.yml, in the same folder. */
function destinationFile(baseFile: string, destination: string): string {
  const ext = extname(baseFile);
  const stem = basename(baseFile, ext);
  return join(dirname(baseFile), `${stem}.${destination}${ext || '.yml'}`);
}

function secretsFileFor(baseFile: string): string {
  return join(dirname(baseFile), '.gangway', 'secrets');
}

function displayName(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

async function readConfigText(file: string, name: string, whatIsIt: string, hint?: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw configError(`${name}: ${whatIsIt} not found`, { hint });
    throw configError(`${name}: cannot read ${whatIsIt} (${code ?? 'error'})`, { cause: err });
  }
}

interface SecretsFileRead {
  values: Record<string, string>;
  warnings: string[];
}

async function readSecretsFile(file: string, name: string): Promise<SecretsFileRead> {
  let text: Buffer;
  try {
    text = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { values: {}, warnings: [] };
    throw configError(`${name}: cannot read the secrets file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  const warnings: string[] = [];
  const mode = (await stat(file)).mode & 0o777;
  if (mode & 0o077) warnings.push(`${name}: warning: readable by other users (mode ${mode.toString(8)}); run chmod 600 ${name}`);
  return { values: parseDotenv(text), warnings };
}

/** Position of a ${VAR} reference inside its scalar, found in the file's text. */
function referenceProblem(source: ConfigSource, ref: BadReference): Problem {
  const span = source.spans.get(pathKey(ref.path));
  let offset = span?.valueStart ?? 0;
  if (span) {
    const text = source.text.slice(span.valueStart, span.valueEnd);
    let at = -1;
    for (let n = 0; n <= ref.occurrence; n++) {
      at = text.indexOf(ref.raw, at + 1);
      if (at < 0) break;
    }
    if (at >= 0) offset = span.valueStart + at;
  }
  const { line, col } = source.lineCounter.linePos(offset);
  const message =
    ref.reason === 'missing'
      ? `${ref.raw}: ${ref.name} is not set in the environment or .gangway/secrets`
      : `${ref.raw}: expected \${NAME} or \${NAME:-default} with NAME of letters, digits and _`;
  return { fileName: source.fileName, line, col, path: ref.path, message, severity: 'error' };
}

function placeProblem(sources: ConfigSource[], p: PathProblem): Problem {
  const hint = p.hint !== undefined ? { hint: p.hint } : {};
  const found = locate(sources, p.path);
  if (!found) return { fileName: sources[0]!.fileName, line: 1, col: 1, path: p.path, message: p.message, severity: p.severity, ...hint };
  const { line, col } = lineCol(found, found.depth === p.path.length ? p.at : 'key');
  return { fileName: found.source.fileName, line, col, path: p.path, message: p.message, severity: p.severity, ...hint };
}

const QUOTE_HINT = 'a ${VAR} inside { } or [ ] must be quoted, e.g. password: "${REGISTRY_PASSWORD}"';

export async function loadConfig(opts: LoadOptions): Promise<LoadedConfig> {
  const file = resolve(opts.cwd, opts.file);
  const baseDir = dirname(file);
  const name = (f: string) => displayName(f, opts.cwd);
  const files = [file];
  if (opts.destination !== undefined) {
    if (!DESTINATION_RE.test(opts.destination)) {
      throw configError(`destination ${JSON.stringify(opts.destination)}: expected letters, digits, "_" or "-"`);
    }
    files.push(destinationFile(file, opts.destination));
  }

  const texts: string[] = [];
  texts.push(opts.text ?? await readConfigText(file, name(file), 'config file', 'run `gangway init` to create one, or pass -c <file>'));
  if (files[1]) texts.push(await readConfigText(files[1], name(files[1]), `destination file for -d ${opts.destination!}`));
  const sources = files.map((f, i) => parseSource(f, name(f), texts[i]!));
  const fileOrder = sources.map((s) => s.fileName);

  const yamlProblems = sources.flatMap((s) => s.yamlProblems);
  if (yamlProblems.length > 0) {
    const quoting = sources.some((s) => s.yamlProblems.some((p) => (s.text.split('\n')[p.line - 1] ?? '').includes('${')));
    throw problemsError(sortProblems(yamlProblems, fileOrder), quoting ? QUOTE_HINT : undefined);
  }

  const secretsFile = secretsFileFor(file);
  const secretsRead = await readSecretsFile(secretsFile, name(secretsFile));
  const lookup = makeLookup(opts.env, secretsRead.values);

  const problems: Problem[] = [];
  const used: UsedVar[] = [];
  const unresolved: KeyPath[] = [];
  const values = sources.map((source, i) => {
    // An empty overlay changes nothing; a non-mapping one cannot be merged.
    if (i > 0 && (source.value === null || source.value === undefined)) return undefined;
    if (i > 0 && !isPlainObject(source.value)) {
      problems.push(placeProblem([source], { path: [], at: 'value', severity: 'error', message: 'expected a mapping of config keys' }));
      return undefined;
    }
    const result = interpolateValue(source.value, lookup);
    problems.push(...result.bad.map((ref) => referenceProblem(source, ref)));
    unresolved.push(...result.bad.map((ref) => ref.path));
    used.push(...result.used);
    return result.value;
  });
  const merged = values.slice(1).reduce<unknown>((acc, overlay) => deepMerge(acc, overlay), values[0]);

  // Secrets first: every message below may be printed, and none may show one.
  const secretIndex = indexSecrets(merged, used, lookup, unresolved);
  for (const value of Object.values(secretIndex.values)) opts.redactor?.addSecret(value);
  const tell = valueTeller(secretIndex);

  const pathProblems = [...shortSecretProblems(secretIndex, merged, used), ...semanticProblems(merged, lookup, tell)];
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) for (const issue of parsed.error.issues) pathProblems.push(...issueProblems(issue, merged, configSchema, tell));
  problems.push(...pathProblems.map((p) => placeProblem(sources, p)));

  const sorted = sortProblems(problems, fileOrder);
  const errors = sorted.filter((p) => p.severity === 'error');
  if (errors.length > 0 || !parsed.success) throw problemsError(errors);
  const warnings = [...secretsRead.warnings, ...sorted.filter((p) => p.severity === 'warning').map(formatProblem)];

  const config = parsed.data;
  const secrets = secretIndex.values;

  const connectionContext = await connectionContextFor(config, merged, sources, baseDir);
  const { roles, hostTargets, connections } = resolveConfig(config, baseDir, homedir(), connectionContext);
  return {
    config,
    file,
    files,
    baseDir,
    ...(opts.destination !== undefined ? { destination: opts.destination } : {}),
    secretsFile,
    secrets,
    roles,
    hostTargets,
    connections,
    connectionContext,
    warnings,
  };
}

/**
 * The ssh config file (ssh.config: a missing default file is no file, a missing named one is an
 * error at that key) and what the gangway.yml sets itself, for resolving hosts' connections.
 */
async function connectionContextFor(config: Config, merged: unknown, sources: ConfigSource[], baseDir: string): Promise<ConnectionContext> {
  const rawSsh = isPlainObject(merged) && isPlainObject(merged.ssh) ? merged.ssh : {};
  const explicitSsh = new Set(Object.keys(rawSsh));
  const where = (path: string[]) => {
    const found = locate(sources, path);
    return found && found.depth === path.length ? { file: found.source.fileName, line: lineCol(found, 'key').line } : undefined;
  };
  let localUser = '';
  try { localUser = userInfo().username; } catch { /* no passwd entry: %u stays empty */ }
  const ctx: ConnectionContext = { explicitSsh, where, localUser };
  if (config.ssh.config === false) return ctx;
  const named = explicitSsh.has('config');
  const path = expandPath(config.ssh.config, baseDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !named) return ctx;
    const message = code === 'ENOENT' ? `ssh config file ${path} not found` : `cannot read the ssh config file ${path} (${code ?? 'error'})`;
    throw problemsError([placeProblem(sources, { path: ['ssh', 'config'], at: 'value', severity: 'error', message, hint: 'point ssh.config at an OpenSSH client config, or set it to false' })]);
  }
  const sshConfig: SshConfigFile = parseSshConfig(text, path);
  return { ...ctx, sshConfig };
}
