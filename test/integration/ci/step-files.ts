// The files a step's shell and the runner exchange, as pure text: the script a step runs, and
// what a GitHub step appends to $GITHUB_ENV and $GITHUB_PATH for the steps after it.
import { shellQuote } from '../../../src/state/shell.js';
import type { StepAction } from './pipeline.js';

/** The script of a bash step; with echo, each command is printed as `$ command` first, as GitLab does. */
export function bashScript(action: Extract<StepAction, { kind: 'bash' }>): string {
  if (!action.echo) return `${action.commands.join('\n')}\n`;
  return action.commands.map((c) => `printf '%s\\n' ${shellQuote(`$ ${c}`)}\n${c}\n`).join('');
}

/**
 * $GITHUB_ENV: `NAME=value` lines and `NAME<<DELIMITER` blocks (a multi-line value up to a line
 * that is the delimiter). Later lines win, as on GitHub.
 */
export function parseGithubEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const block = /^([^=<]+)<<(.+)$/.exec(line);
    if (block) {
      const end = lines.indexOf(block[2]!, i + 1);
      if (end < 0) throw new Error(`$GITHUB_ENV: ${block[1]}<<${block[2]} has no closing ${block[2]}`);
      out[block[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`$GITHUB_ENV: cannot read the line ${JSON.stringify(line)}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** $GITHUB_PATH: one directory a line; the last added comes first on PATH. */
export const parseGithubPath = (text: string): string[] => text.split('\n').filter(Boolean).reverse();
