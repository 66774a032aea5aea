// Turns zod issues into user-facing problems: what was expected, what was found, and for
// unknown keys the closest known key.
import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { describeValue, type KeyPath, type ValueTeller } from './problems.js';
import { HOST_NAME_EXPECTED } from './schema.js';
import type { PointAt } from './source.js';

/** A problem before it has a position: the path to point at, and whether at its key or value. */
export interface PathProblem {
  path: KeyPath;
  at: PointAt;
  message: string;
  severity: 'error' | 'warning';
  /** What to do about it, shown once under the problems (GangwayError.hint). */
  hint?: string;
}

interface ZodDefLike {
  type: string;
  innerType?: ZodLike;
  in?: ZodLike;
  shape?: Record<string, ZodLike>;
  valueType?: ZodLike;
  element?: ZodLike;
  options?: ZodLike[];
}
interface ZodLike {
  _zod: { def: ZodDefLike };
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

function unwrap(schema: ZodLike): ZodLike {
  let s = schema;
  for (let i = 0; i < 32; i++) {
    const def = s._zod.def;
    if (WRAPPERS.has(def.type) && def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else break;
  }
  return s;
}

/** The keys an object schema accepts at `path` (record values and list items are walked through). */
export function knownKeysAt(schema: z.ZodType, path: KeyPath): string[] {
  let s: ZodLike | undefined = unwrap(schema as unknown as ZodLike);
  for (const seg of path) {
    if (!s) return [];
    const def: ZodDefLike = s._zod.def;
    if (def.type === 'object' && typeof seg === 'string') s = def.shape?.[seg];
    else if (def.type === 'record') s = def.valueType;
    else if (def.type === 'array') s = def.element;
    else return [];
    s = s ? unwrap(s) : undefined;
  }
  return s && s._zod.def.type === 'object' ? Object.keys(s._zod.def.shape ?? {}) : [];
}

/** The known key a typo most likely meant, if any is close enough to be a good guess. */
export function suggestKey(unknown: string, known: string[]): string | undefined {
  if (known.length === 0) return undefined;
  const best = closest(unknown, known);
  const maxEdits = Math.max(2, Math.floor(unknown.length / 3));
  return distance(unknown, best) <= maxEdits ? best : undefined;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

/** Value at a path of the raw (pre-validation) input. */
function valueAt(input: unknown, path: KeyPath): unknown {
  let v: unknown = input;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

// zod's own messages start like this; ours say what was expected in the user's terms.
const isDefaultMessage = (m: string) => /^(Invalid|Too (small|big)|Unrecognized)/.test(m);

const showAsIs: ValueTeller = (_path, value) => describeValue(value);

/**
 * Problems for one zod issue; `input` is the merged, interpolated config that was validated.
 * `tell` shows the value in "got ..."; the loader's withholds values that came from a secret.
 */
export function issueProblems(issue: z.core.$ZodIssue, input: unknown, schema: z.ZodType, tell: ValueTeller = showAsIs): PathProblem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const value = valueAt(input, path);
  const shown = tell(path, value);
  const got = `, got ${shown}`;
  const error = (message: string, at: PointAt = 'value', at_path: KeyPath = path): PathProblem => ({ path: at_path, at, message, severity: 'error' });

  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(schema, path);
      return issue.keys.map((key) => {
        const suggestion = suggestKey(key, known);
        const tail = suggestion ? ` — did you mean \`${suggestion}\`?` : known.length ? ` (known keys: ${known.join(', ')})` : '';
        return error(`unknown key \`${key}\`${tail}`, 'key', [...path, key]);
      });
    }
    case 'invalid_key': {
      const inner = issue.issues[0];
      const expected = inner && !isDefaultMessage(inner.message) ? inner.message : 'expected a valid key';
      const key = path[path.length - 1];
      return [error(`${expected}, got ${describeValue(key)}`, 'key')];
    }
    case 'invalid_type': {
      if (value === undefined) {
        const key = path[path.length - 1];
        return [error(`missing required key \`${String(key)}\``, 'key')];
      }
      const expected = isDefaultMessage(issue.message) ? `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}` : issue.message;
      return [error(`${expected}${got}`)];
    }
    case 'too_small': {
      if (!isDefaultMessage(issue.message)) return [error(Array.isArray(value) ? issue.message : `${issue.message}${got}`)];
      if (issue.origin === 'string') return [error(`expected a non-empty string${got}`)];
      if (issue.origin === 'array') return [error(`expected at least ${String(issue.minimum)} item(s)`)];
      const bound = issue.inclusive ? `at least ${String(issue.minimum)}` : `more than ${String(issue.minimum)}`;
      return [error(`expected ${bound}${got}`)];
    }
    case 'too_big': {
      if (!isDefaultMessage(issue.message)) return [error(`${issue.message}${got}`)];
      const bound = issue.inclusive ? `at most ${String(issue.maximum)}` : `less than ${String(issue.maximum)}`;
      return [error(`expected ${bound}${issue.origin === 'array' ? ' item(s)' : ''}${got}`)];
    }
    case 'invalid_format': {
      const expected = isDefaultMessage(issue.message)
        ? issue.format === 'regex' && 'pattern' in issue
          ? `expected text matching ${String(issue.pattern)}`
          : `expected ${issue.format}`
        : issue.message;
      // Only for a value shown as it is: the hint would say something about a secret's text.
      const userHint = issue.message === HOST_NAME_EXPECTED && typeof value === 'string' && value.includes('@') && shown === describeValue(value) ? ' (put the user in ssh.user or hosts.<name>.user)' : '';
      return [error(`${expected}${got}${userHint}`)];
    }
    case 'invalid_value':
      return [error(`expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`)];
    case 'invalid_union':
      return [error(`${isDefaultMessage(issue.message) ? 'expected another kind of value' : issue.message}${got}`)];
    case 'custom':
      return [error(issue.message)];
    default:
      return [error(`${issue.message}${got}`)];
  }
}
