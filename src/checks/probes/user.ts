// user: one getent (NSS) for every user of the script, else /etc/passwd; `id -Gn` only for
// checks that ask about groups.
import type { UserSpec } from '../resources/user.js';
import { lit, q, type Probe } from './probe.js';

/** Sets $VAR to the account lines of `database` for these names, newline at both ends. */
export function accountPrelude(variable: string, database: 'passwd' | 'group', names: string[]): string {
  const keys = [...new Set(names)].map(q).join(' ');
  return `if command -v getent >/dev/null 2>&1; then ${variable}=$(getent ${database} ${keys} 2>/dev/null); else ${variable}=$(cat /etc/${database} 2>/dev/null); fi; ${variable}="$_nl$${variable}$_nl"`;
}

/** Splits $r (the rest of an account line) on ":" into $1, $2... without globbing. */
export const SPLIT_FIELDS = 'set -f; _ifs=$IFS; IFS=:; set -- $r; IFS=$_ifs; set +f';

export const userProbe: Probe<UserSpec> = {
  type: 'user',
  prelude: (specs) => accountPrelude('_pw', 'passwd', specs.map((s) => s.user)),
  shell(spec) {
    return [
      `if _line "$_pw" ${q(`${spec.user}:`)}; then`,
      `  ${SPLIT_FIELDS}`,
      `  printf '{"exists":true,"uid":'; _s "$2"; printf ',"gid":'; _s "$3"; printf ',"home":'; _s "$5"; printf ',"shell":'; _s "$6"`,
      ...(spec.groups ? [`  gs=$(id -Gn ${q(spec.user)} 2>/dev/null); printf ',"groups":'; _s "$gs"`] : []),
      `  printf '}'`,
      `else ${lit('{"exists":false}')}; fi`,
    ].join('\n');
  },
};
