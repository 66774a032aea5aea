// sysctl: one grep over every /proc/sys file of the script ("path:value" lines). Not the
// shell's own read: dash reads a byte at a time, and some /proc/sys files answer a read at a
// non-zero offset with EOF (tcp_rmem came back as "4").
import { sysctlPath, type SysctlSpec } from '../resources/sysctl.js';
import { q, type Probe } from './probe.js';

export const sysctlProbe: Probe<SysctlSpec> = {
  type: 'sysctl',
  prelude: (specs) => `_sy="$_nl$(grep -H '' ${[...new Set(specs.map((s) => sysctlPath(s.sysctl)))].map(q).join(' ')} 2>/dev/null)$_nl"`,
  shell(spec) {
    return `if [ -r ${q(sysctlPath(spec.sysctl))} ] && _line "$_sy" ${q(`${sysctlPath(spec.sysctl)}:`)}; then printf '{"exists":true,"value":'; _s "$r"; printf '}'; else printf '{"exists":false}'; fi`;
  },
};
