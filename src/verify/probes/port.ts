// port: one awk over /proc/net/{tcp,udp}[6] for the whole script (no ss/netstat needed) into
// " proto:PORT:ADDR" tokens; each check picks its port's tokens with builtins. Addresses travel
// as the kernel's hex; ../resources/port.ts decodes them.
import type { PortSpec } from '../resources/port.js';
import type { Probe } from './probe.js';

// TCP sockets listen in state 0A; unconnected UDP sockets sit in 07.
const STATE = { tcp: '0A', udp: '07' } as const;

export const portProbe: Probe<PortSpec> = {
  type: 'port',
  prelude(specs) {
    const protos = [...new Set(specs.map((s) => s.proto))];
    // One awk over the files that exist (a host without IPv6 has no tcp6), tagging each line
    // with its protocol from the file name.
    const files = protos.flatMap((p) => [`/proc/net/${p}`, `/proc/net/${p}6`]);
    const listening = protos.map((p) => `(FILENAME ~ /${p}/ && $4 == "${STATE[p]}")`).join(' || ');
    return [
      `set --; for f in ${files.join(' ')}; do [ -r "$f" ] && set -- "$@" "$f"; done`,
      `_ls=; [ $# -gt 0 ] && _ls=$(awk '${listening} { n = split($2, x, ":"); p = FILENAME; sub(".*/", "", p); sub(/6$/, "", p); printf " %s:%s:%s", p, x[n], x[1] }' "$@")`,
      '_ls="$_ls "',
    ].join('\n');
  },
  shell(spec) {
    const hexPort = spec.port.toString(16).toUpperCase().padStart(4, '0');
    return [
      `a=; for t in $_ls; do case $t in ${spec.proto}:${hexPort}:*) a="$a \${t##*:}";; esac; done`,
      `printf '{"addresses":'; _s "\${a# }"; printf '}'`,
    ].join('\n');
  },
};
