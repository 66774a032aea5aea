// sysctl: read from /proc/sys (no sysctl binary needed).
import { sysctlPath, type SysctlSpec } from '../resources/sysctl.js';
import { q, type Probe } from './probe.js';

export const sysctlProbe: Probe<SysctlSpec> = {
  type: 'sysctl',
  shell(spec) {
    return [
      `f=${q(sysctlPath(spec.sysctl))}`,
      // cat, not the shell's read: dash reads a byte at a time, and some /proc/sys files answer
      // a read at a non-zero offset with EOF (tcp_rmem came back as "4").
      `if [ -r "$f" ]; then v=$(cat "$f" 2>/dev/null); printf '{"exists":true,"value":'; _s "$v"; printf '}'; else printf '{"exists":false}'; fi`,
    ].join('\n');
  },
};
