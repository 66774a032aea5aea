// process: counts /proc/<pid>/comm equal to the name with sh builtins only (no ps, no fork).
import { COMM_LENGTH, type ProcessSpec } from '../resources/process.js';
import { q, type Probe } from './probe.js';

export const processProbe: Probe<ProcessSpec> = {
  type: 'process',
  shell(spec) {
    return [
      `n=0; for f in /proc/[0-9]*/comm; do c=; read -r c 2>/dev/null <"$f"; [ "$c" = ${q(spec.process.slice(0, COMM_LENGTH))} ] && n=$((n+1)); done`,
      `printf '{"count":%d}' "$n"`,
    ].join('\n');
  },
};
