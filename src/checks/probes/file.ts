// file and directory: stat for type/mode/owner/size, sha256sum when asked, grep -F/-E for
// contents (the file itself never leaves the host).
import type { FileSpec } from '../resources/file.js';
import { lit, q, type Probe } from './probe.js';

/** One stat for every path of the script, into $VAR as "\npath|mode|owner|group|size\n" lines. */
export function statPrelude(variable: string, paths: string[]): string {
  const unique = [...new Set(paths)];
  return `${variable}="$_nl$(stat -L -c '%n|%a|%U|%G|%s' ${unique.map(q).join(' ')} 2>/dev/null)$_nl"`;
}

/** Shared by the file and directory probes: existence and type from builtins, the rest from $VAR. */
export function statShell(variable: string, path: string, extra: string[] = []): string {
  return [
    `p=${q(path)}`,
    'if [ -e "$p" ] || [ -L "$p" ]; then',
    '  t=other; [ -f "$p" ] && t=file; [ -d "$p" ] && t=directory; l=false; [ -L "$p" ] && l=true',
    `  _line "$${variable}" "$p|"; m=\${r%%|*}; r=\${r#*|}; o=\${r%%|*}; r=\${r#*|}; g=\${r%%|*}; z=\${r#*|}`,
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
    return statShell('_stf', spec.file, extra);
  },
  prelude: (specs) => statPrelude('_stf', specs.map((s) => s.file)),
};
