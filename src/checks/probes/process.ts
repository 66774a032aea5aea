// process: the names of all processes read once from /proc/<pid>/comm with builtins (no ps, no
// fork), then each check counts its name.
import { COMM_LENGTH, type ProcessSpec } from '../resources/process.js';
import { q, type Probe } from './probe.js';

export const processProbe: Probe<ProcessSpec> = {
  type: 'process',
  prelude: () => '_pc=$_nl; for f in /proc/[0-9]*/comm; do c=; read -r c 2>/dev/null <"$f"; _pc="$_pc$c$_nl"; done',
  shell(spec) {
    return [
      `n=0; w=${q(spec.process.slice(0, COMM_LENGTH))}; r=$_pc`,
      'while :; do case $r in *"$_nl$w$_nl"*) n=$((n+1)); r=${r#*"$_nl$w"};; *) break;; esac; done',
      `printf '{"count":%d}' "$n"`,
    ].join('\n');
  },
};
