// file and directory: stat for type/mode/owner/size, sha256sum when asked, grep -F/-E for
// contents (the file itself never leaves the host).
import type { FileSpec } from '../resources/file.js';
import { lit, q, type Probe } from './probe.js';

/** Shared by the file and directory probes. */
export function statShell(path: string, extra: string[] = []): string {
  return [
    `p=${q(path)}`,
    'if [ -e "$p" ] || [ -L "$p" ]; then',
    '  t=other; [ -f "$p" ] && t=file; [ -d "$p" ] && t=directory; l=false; [ -L "$p" ] && l=true',
    `  st=$(stat -L -c '%a %U %G %s' "$p" 2>/dev/null)`,
    '  IFS=" " read -r m o g z <<EOF_STAT',
    '$st',
    'EOF_STAT',
    `  printf '{"exists":true,"type":"%s","symlink":%s,"mode":' "$t" "$l"; _s "$m"; printf ',"owner":'; _s "$o"; printf ',"group":'; _s "$g"; printf ',"size":'; _n "$z"`,
    ...extra.map((line) => `  ${line}`),
    `  printf '}'`,
    `else ${lit('{"exists":false}')}; fi`,
  ].join('\n');
}

export const fileProbe: Probe<FileSpec> = {
  type: 'file',
  shell(spec) {
    const extra: string[] = [];
    if (spec.sha256 !== undefined) extra.push(`h=$(sha256sum <"$p" 2>/dev/null); printf ',"sha256":'; _s "\${h%% *}"`);
    if (spec.contains?.length) {
      extra.push(`printf ',"contains":['`);
      spec.contains.forEach((s, i) => extra.push(`${i ? "printf ','; " : ''}grep -F -q -e ${q(s)} "$p" 2>/dev/null; _b`));
      extra.push(`printf ']'`);
    }
    if (spec.matches?.length) {
      extra.push(`printf ',"matches":['`);
      spec.matches.forEach((s, i) => extra.push(`${i ? "printf ','; " : ''}grep -E -q -e ${q(s)} "$p" 2>/dev/null; _b`));
      extra.push(`printf ']'`);
    }
    return statShell(spec.file, extra);
  },
};
