// .dockerignore, the common subset: comments, `*`, `?`, `[...]`, `**`, `!` exceptions, the last
// matching line wins, and a path is excluded when one of its parent folders is.
import { posix } from 'node:path';

export interface IgnoreRule {
  pattern: string;
  regex: RegExp;
  /** A `!` line: matching paths are included again. */
  exception: boolean;
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const exception = line.startsWith('!');
    if (exception) line = line.slice(1).trim();
    let pattern = posix.normalize(line.replace(/\\/g, '/')).replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
    if (pattern === '.' || pattern === '') pattern = '**';
    rules.push({ pattern, regex: globToRegex(pattern), exception });
  }
  return rules;
}

/** One glob as an anchored regex over a slash-separated relative path. */
export function globToRegex(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        out += slashAfter ? '(?:.*/)?' : '.*';
        i += slashAfter ? 2 : 1;
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) { out += '\\['; continue; }
      let body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
      if (body.startsWith('^') || body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body}]`;
      i = end;
    } else {
      out += c.replace(/[.+^${}()|\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

/** Whether a path relative to the context (slash-separated) stays out of the build context. */
export function isIgnored(relativePath: string, rules: readonly IgnoreRule[]): boolean {
  const parts = relativePath.split('/').filter(Boolean);
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (prefixes.some((p) => rule.regex.test(p))) ignored = !rule.exception;
  }
  return ignored;
}

/** Folders can be skipped whole only when no `!` line could bring something inside back. */
export function canPruneFolders(rules: readonly IgnoreRule[]): boolean {
  return !rules.some((r) => r.exception);
}
