// A config problem is one line a user can act on: where (file:line:col), which key, what was
// expected. The loader collects every problem of a run and throws them as one GangwayError.
import { configError, type GangwayError } from '../errors.js';

export type KeyPath = ReadonlyArray<string | number>;

export interface Problem {
  /** File name as shown to the user (relative to the working directory when inside it). */
  fileName: string;
  line: number;
  col: number;
  path: KeyPath;
  message: string;
  severity: 'error' | 'warning';
  /** What to do about it; problemsError joins the hints of its problems into the error's hint. */
  hint?: string;
}

const PLAIN_KEY_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** ['servers', 'web', 'hosts', 1] -> "servers.web.hosts[1]"; odd keys are quoted: hosts["a.b"]. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_KEY_RE.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** "gangway.yml:7:14 servers.web.hosts[1]: expected a host name or address, got "vm 2"" */
export function formatProblem(p: Problem): string {
  const where = `${p.fileName}:${p.line}:${p.col}`;
  const key = formatPath(p.path);
  const prefix = p.severity === 'warning' ? 'warning: ' : '';
  return `${where} ${prefix}${key ? `${key}: ` : ''}${p.message}`;
}

/** How to show a value in "got ...": as it is, unless it came from a secret; then by its source only. */
export type ValueTeller = (path: KeyPath, value: unknown) => string;

/** Short description of a value for "got ..." in messages. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

export function sortProblems(problems: Problem[], fileOrder: string[]): Problem[] {
  const rank = (f: string) => {
    const i = fileOrder.indexOf(f);
    return i < 0 ? fileOrder.length : i;
  };
  const seen = new Set<string>();
  return [...problems]
    .sort((a, b) => rank(a.fileName) - rank(b.fileName) || a.line - b.line || a.col - b.col)
    .filter((p) => {
      const line = formatProblem(p);
      if (seen.has(line)) return false;
      seen.add(line);
      return true;
    });
}

/**
 * One error for all problems: the message is the problem itself when there is one, else a
 * count; `details` always lists every problem, one per line. The hint is `hint`, else the
 * problems' own hints (each once).
 */
export function problemsError(errors: Problem[], hint?: string): GangwayError {
  const lines = errors.map(formatProblem);
  const files = [...new Set(errors.map((p) => p.fileName))];
  const message = lines.length === 1 ? lines[0]! : `${lines.length} problems in ${files.join(', ')}`;
  const own = [...new Set(errors.flatMap((p) => (p.hint ? [p.hint] : [])))];
  const shown = hint ?? (own.length > 0 ? own.join('; ') : undefined);
  return configError(message, { details: lines, ...(shown !== undefined ? { hint: shown } : {}) });
}
