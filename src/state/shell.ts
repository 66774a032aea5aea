// Quoting for the shell lines gangway builds. Only names and paths go through here: values that
// must stay secret travel on stdin, never inside a command line.

/** Single-quotes a word for POSIX sh; safe for any byte except NUL. */
export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new Error('a shell word cannot contain NUL');
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command to run on a host plus what goes to its stdin: "commands are data". */
export interface ShellCommand {
  command: string;
  stdin?: string;
}

/** Where gangway keeps its per-service state on every host. */
export const GANGWAY_STATE_DIR = '/var/lib/gangway';

/**
 * A probe's shell line: prints `<prefix><key>=<value>`, the value expanded by the shell. Probes
 * prefix their lines so stray shell output (a motd, a profile's echo) is told apart.
 */
export const probeLine = (prefix: string, key: string, value: string): string => `printf '${prefix}%s=%s\\n' ${key} "${value}"`;

/** The key=value lines a probe printed (probeLine); lines without the prefix are ignored. */
export function probeValues(stdout: string, prefix: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const body = line.slice(prefix.length);
    const eq = body.indexOf('=');
    if (eq > 0) values.set(body.slice(0, eq), body.slice(eq + 1).trim());
  }
  return values;
}
