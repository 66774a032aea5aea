// user: getent (NSS) when present, else /etc/passwd; id -Gn for the groups.
import type { UserSpec } from '../resources/user.js';
import { lit, q, type Probe } from './probe.js';

/** Sets $e to the account's line of `database` (passwd or group), empty when there is none. */
export function accountLine(database: 'passwd' | 'group', name: string): string {
  return `e=$(getent ${database} ${q(name)} 2>/dev/null) || e=$(awk -F: -v n=${q(name)} '$1 == n { print; exit }' /etc/${database} 2>/dev/null)`;
}

export const userProbe: Probe<UserSpec> = {
  type: 'user',
  shell(spec) {
    return [
      accountLine('passwd', spec.user),
      'if [ -n "$e" ]; then',
      '  IFS=: read -r un pw uid gid gecos home sh <<EOF_USER',
      '$e',
      'EOF_USER',
      `  gs=$(id -Gn ${q(spec.user)} 2>/dev/null)`,
      `  printf '{"exists":true,"uid":'; _s "$uid"; printf ',"gid":'; _s "$gid"; printf ',"home":'; _s "$home"; printf ',"shell":'; _s "$sh"; printf ',"groups":'; _s "$gs"; printf '}'`,
      `else ${lit('{"exists":false}')}; fi`,
    ].join('\n');
  },
};
