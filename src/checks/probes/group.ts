// group: one getent group for every group of the script, else /etc/group.
import type { GroupSpec } from '../resources/group.js';
import { lit, q, type Probe } from './probe.js';
import { accountPrelude, SPLIT_FIELDS } from './user.js';

export const groupProbe: Probe<GroupSpec> = {
  type: 'group',
  prelude: (specs) => accountPrelude('_gr', 'group', specs.map((s) => s.group)),
  shell(spec) {
    return [
      `if _line "$_gr" ${q(`${spec.group}:`)}; then`,
      `  ${SPLIT_FIELDS}`,
      `  printf '{"exists":true,"gid":'; _s "$2"; printf '}'`,
      `else ${lit('{"exists":false}')}; fi`,
    ].join('\n');
  },
};
