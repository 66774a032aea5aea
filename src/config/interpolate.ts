// ${VAR} and ${VAR:-default} in string values, from the environment and .gangway/secrets.
// `$${...}` stays literal as `${...}`. Keys are never interpolated, only string values.
import type { KeyPath } from './problems.js';

export type VarOrigin = 'env' | 'secrets';

export interface VarLookup {
  (name: string): { value: string; origin: VarOrigin } | undefined;
}

/** One reference that could not be resolved (or was malformed), with where to point at it. */
export interface BadReference {
  path: KeyPath;
  /** The reference as written, e.g. "${DB_URL}", to find it in the file's text. */
  raw: string;
  /** Which occurrence of `raw` in the scalar (0 = first). */
  occurrence: number;
  name: string;
  reason: 'missing' | 'malformed';
}

export interface UsedVar {
  path: KeyPath;
  name: string;
  value: string;
  origin: VarOrigin;
}

export interface Interpolated {
  value: unknown;
  bad: BadReference[];
  used: UsedVar[];
}

const REF_RE = /(\$?)\$\{([^}]*)\}/g;
const VAR_RE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

export function interpolateString(text: string, path: KeyPath, lookup: VarLookup): { value: string; bad: BadReference[]; used: UsedVar[] } {
  const bad: BadReference[] = [];
  const used: UsedVar[] = [];
  const seen = new Map<string, number>();
  const value = text.replace(REF_RE, (raw, escape: string, inner: string) => {
    if (escape) return raw.slice(1);
    const occurrence = seen.get(raw) ?? 0;
    seen.set(raw, occurrence + 1);
    const m = VAR_RE.exec(inner);
    if (!m) {
      bad.push({ path, raw, occurrence, name: inner, reason: 'malformed' });
      return raw;
    }
    const name = m[1]!;
    const fallback = m[2];
    const found = lookup(name);
    // Like the shell's ${VAR:-default}: an empty value also takes the default.
    if (found && (found.value !== '' || fallback === undefined)) {
      used.push({ path, name, value: found.value, origin: found.origin });
      return found.value;
    }
    if (fallback !== undefined) return fallback;
    bad.push({ path, raw, occurrence, name, reason: 'missing' });
    return raw;
  });
  return { value, bad, used };
}

/** Interpolates every string value of a parsed document; returns a new value. */
export function interpolateValue(value: unknown, lookup: VarLookup, path: KeyPath = []): Interpolated {
  if (typeof value === 'string') return interpolateString(value, path, lookup);
  const bad: BadReference[] = [];
  const used: UsedVar[] = [];
  if (Array.isArray(value)) {
    const out = value.map((item, i) => {
      const r = interpolateValue(item, lookup, [...path, i]);
      bad.push(...r.bad);
      used.push(...r.used);
      return r.value;
    });
    return { value: out, bad, used };
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = interpolateValue(v, lookup, [...path, k]);
      bad.push(...r.bad);
      used.push(...r.used);
      out[k] = r.value;
    }
    return { value: out, bad, used };
  }
  return { value, bad, used };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * The environment wins over .gangway/secrets: a CI job or a shell can override a stored
 * secret for one run without editing the file (the same rule dotenv itself applies).
 */
export function makeLookup(env: NodeJS.ProcessEnv, secretsFile: Record<string, string>): VarLookup {
  return (name) => {
    const fromEnv = env[name];
    if (fromEnv !== undefined) return { value: fromEnv, origin: 'env' };
    const fromFile = secretsFile[name];
    if (fromFile !== undefined) return { value: fromFile, origin: 'secrets' };
    return undefined;
  };
}
