// How a host is looked at: a probe turns one check's spec into POSIX sh that prints the facts
// as ONE JSON object (no newline) on stdout. Probes only build text; ./script.ts assembles them
// into one script per host and ../run.ts sends it. Shell helpers every probe may call are in
// SHELL_HELPERS; they need nothing beyond a POSIX sh, od and tr (dash, bash, busybox).
import { shellQuote } from '../../state/shell.js';

export interface Probe<S = Record<string, unknown>> {
  type: string;
  /** sh that prints one JSON object; may use $_d (a private temp dir) when needsTempDir. */
  shell(spec: S): string;
  needsTempDir?: boolean;
  /**
   * sh run once per script, before any check, given every spec of this type in it: one process
   * gathers what all those checks read (one stat for every file, one dpkg-query for every
   * package), and each check then finds its part with shell builtins. A fork costs about a
   * millisecond on a small host; this is what keeps 100 checks near the cost of one exec.
   */
  prelude?(specs: S[]): string;
}

/** Largest output kept from a command, a response body or a file, per check. */
const MAX_CAPTURE_BYTES = 65_536;

/**
 * _s TEXT     a JSON string when TEXT is plain printable ASCII, else {"hex":"..."} of its bytes
 * _n DIGITS   a JSON number, or null when empty or not a plain decimal
 * _x FILE     {"hex":"..."} of the file's first MAX_CAPTURE_BYTES bytes ("" when empty, null when missing);
 *             od's spaces stay in (one process instead of od | tr), the reader drops them
 * _b          true when the previous command succeeded, else false
 * _line TEXT KEY  sets $r to the rest of the first line of TEXT that starts with KEY, false when
 *             none does; TEXT holds lines with a newline at both ends
 * JSON escaping in sh is where such scripts usually break: the fast path only lets through
 * characters that need no escaping, and everything else travels as hex.
 */
export const SHELL_HELPERS = [
  `_s() { case $1 in *[!]A-Za-z0-9_.,:/@%+=~\\ [*-]*) printf '{"hex":"'; printf %s "$1" | od -An -v -tx1 | tr -d ' \\n'; printf '"}';; *) printf '"%s"' "$1";; esac; }`,
  `_n() { case $1 in ''|*[!0-9]*|0?*) printf null;; *) printf %s "$1";; esac; }`,
  `_x() { if [ -s "$1" ]; then _h=$(od -An -v -tx1 -w${MAX_CAPTURE_BYTES} -N ${MAX_CAPTURE_BYTES} "$1"); printf '{"hex":"%s"}' "$_h"; elif [ -f "$1" ]; then printf '""'; else printf null; fi; }`,
  `_b() { if [ $? -eq 0 ]; then printf true; else printf false; fi; }`,
  `_nl='
'`,
  `_line() { case $1 in *"$_nl$2"*) r=\${1#*"$_nl$2"}; r=\${r%%"$_nl"*}; return 0;; esac; r=; return 1; }`,
].join('\n');

export const q = shellQuote;

/** printf of a literal JSON fragment (no format directives inside). */
export function lit(json: string): string {
  return `printf '%s' ${shellQuote(json)}`;
}
