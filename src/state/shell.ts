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
