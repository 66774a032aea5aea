// sysctl: read with the shell's own `read` (no sysctl binary needed).
import { sysctlPath, type SysctlSpec } from '../resources/sysctl.js';
import { q, type Probe } from './probe.js';

export const sysctlProbe: Probe<SysctlSpec> = {
  type: 'sysctl',
  shell(spec) {
    return [
      `f=${q(sysctlPath(spec.sysctl))}`,
      `if [ -r "$f" ] && IFS= read -r v 2>/dev/null <"$f"; then printf '{"exists":true,"value":'; _s "$v"; printf '}'; else printf '{"exists":false}'; fi`,
    ].join('\n');
  },
};
