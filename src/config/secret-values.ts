// Which values of a config are secret, and where they sit, known right after interpolation and
// before validation. The loader needs both before it judges anything: a value of the wrong type
// may be a password, and the message that says so must name the secret, never show it.
import { MIN_SECRET_LENGTH } from '../events/events.js';
import { isPlainObject, type UsedVar, type VarLookup } from './interpolate.js';
import { describeValue, formatPath, type KeyPath, type ValueTeller } from './problems.js';
import type { PathProblem } from './issues.js';

/** What a command's output bus offers: every value given here is redacted from its output. */
export interface SecretSink {
  addSecret(value: string): void;
}

/** The registry password is a secret even when written in clear in the config. */
const REGISTRY_PASSWORD: KeyPath = ['registry', 'password'];
const REGISTRY_PASSWORD_NAME = 'registry.password';

export interface SecretIndex {
  /**
   * Secret values by name: every env.secret name (and accessory env.secret name) that is set,
   * every variable interpolated from .gangway/secrets or named in an env.secret list, and the
   * registry password (by its variable's name, else "registry.password"). Empty values are left
   * out: there is nothing to hide.
   */
  values: Record<string, string>;
  /** The secret a value at this path of the interpolated input came from, if any. */
  sourceAt(path: KeyPath): string | undefined;
}

const keyOf = (path: KeyPath): string => JSON.stringify(path);

/** The keys of `proxy.ssl: { ... }` that name gangway secrets. */
export const OWN_CERTIFICATE_KEYS = ['certificate_pem', 'private_key_pem'] as const;

/** Names listed in env.secret and in every accessory's env.secret, read from unvalidated input. */
function secretNamesIn(input: unknown): Array<{ name: string; path: KeyPath }> {
  if (!isPlainObject(input)) return [];
  const out: Array<{ name: string; path: KeyPath }> = [];
  const collect = (env: unknown, prefix: KeyPath) => {
    if (!isPlainObject(env) || !Array.isArray(env.secret)) return;
    env.secret.forEach((name, i) => {
      if (typeof name === 'string') out.push({ name, path: [...prefix, 'secret', i] });
    });
  };
  collect(input.env, ['env']);
  // An own certificate's PEMs: its private key is a secret like any other, and redacted as one.
  const proxy = isPlainObject(input.proxy) ? input.proxy : undefined;
  if (proxy && isPlainObject(proxy.ssl)) {
    for (const key of OWN_CERTIFICATE_KEYS) {
      const name = proxy.ssl[key];
      if (typeof name === 'string') out.push({ name, path: ['proxy', 'ssl', key] });
    }
  }
  if (isPlainObject(input.accessories)) {
    for (const [accessory, spec] of Object.entries(input.accessories)) {
      if (isPlainObject(spec)) collect(spec.env, ['accessories', accessory, 'env']);
    }
  }
  return out;
}

/**
 * Pure: the secrets of an interpolated (merged, not yet validated) config and where they landed.
 * `unresolved`: paths whose ${VAR} could not be resolved; their text is the reference as written
 * (an error the loader reports), not a secret, and redacting it would hide what that error names.
 */
export function indexSecrets(input: unknown, used: readonly UsedVar[], lookup: VarLookup, unresolved: readonly KeyPath[] = []): SecretIndex {
  const names = new Set(secretNamesIn(input).map((n) => n.name));
  const values: Record<string, string> = {};
  const sources = new Map<string, string>();
  for (const name of names) {
    const found = lookup(name);
    if (found && found.value !== '') values[name] = found.value;
  }
  for (const u of used) {
    if (u.origin !== 'secrets' && !names.has(u.name)) continue;
    if (u.value !== '') values[u.name] = u.value;
    // The first secret of a scalar names it; one is enough to withhold the whole value.
    if (!sources.has(keyOf(u.path))) sources.set(keyOf(u.path), u.name);
  }
  const password = isPlainObject(input) && isPlainObject(input.registry) ? input.registry.password : undefined;
  if (password !== undefined) {
    const fromVar = used.find((u) => keyOf(u.path) === keyOf(REGISTRY_PASSWORD));
    const name = fromVar?.name ?? REGISTRY_PASSWORD_NAME;
    const isReference = unresolved.some((p) => keyOf(p) === keyOf(REGISTRY_PASSWORD));
    if (typeof password === 'string' && password !== '' && !isReference) values[name] = password;
    sources.set(keyOf(REGISTRY_PASSWORD), name);
  }
  return { values, sourceAt: (path) => sources.get(keyOf(path)) };
}

const kindOf = (value: unknown): string =>
  typeof value === 'string' ? 'a string' : Array.isArray(value) ? 'a list' : isPlainObject(value) ? 'a mapping' : value === null || value === undefined ? 'nothing' : `a ${typeof value}`;

export function valueTeller(index: Pick<SecretIndex, 'sourceAt'>): ValueTeller {
  return (path, value) => {
    const secret = index.sourceAt(path);
    return secret === undefined ? describeValue(value) : `${kindOf(value)} from secret ${secret}`;
  };
}

/**
 * Secrets too short to redact, each pointed at where it is named: its env.secret entry, else its
 * first ${VAR}, else registry.password. The message names the secret and its length, never its value.
 */
export function shortSecretProblems(index: Pick<SecretIndex, 'values'>, input: unknown, used: readonly UsedVar[]): PathProblem[] {
  const listed = secretNamesIn(input);
  const problems: PathProblem[] = [];
  for (const [name, value] of Object.entries(index.values)) {
    if (value.length >= MIN_SECRET_LENGTH) continue;
    const path = listed.find((l) => l.name === name)?.path ?? used.find((u) => u.name === name)?.path ?? REGISTRY_PASSWORD;
    const what = name === REGISTRY_PASSWORD_NAME ? `the secret ${formatPath(REGISTRY_PASSWORD)}` : `secret ${name}`;
    problems.push({
      path,
      at: 'value',
      severity: 'error',
      message: `${what} is ${value.length} character${value.length === 1 ? '' : 's'} long; secrets need at least ${MIN_SECRET_LENGTH} so gangway can keep them out of its output`,
    });
  }
  return problems;
}
