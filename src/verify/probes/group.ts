// group: getent group, else /etc/group.
import type { GroupSpec } from '../resources/group.js';
import { lit, type Probe } from './probe.js';
import { accountLine } from './user.js';

export const groupProbe: Probe<GroupSpec> = {
  type: 'group',
  shell(spec) {
    return [
      accountLine('group', spec.group),
      'if [ -n "$e" ]; then',
      '  IFS=: read -r gn pw gid members <<EOF_GROUP',
      '$e',
      'EOF_GROUP',
      `  printf '{"exists":true,"gid":'; _s "$gid"; printf '}'`,
      `else ${lit('{"exists":false}')}; fi`,
    ].join('\n');
  },
};
