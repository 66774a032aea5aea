// port: listening sockets read from /proc/net/{tcp,udp}[6] (no ss/netstat needed). Local
// addresses travel as the kernel's hex; ../resources/port.ts decodes them.
import type { PortSpec } from '../resources/port.js';
import type { Probe } from './probe.js';

export const portProbe: Probe<PortSpec> = {
  type: 'port',
  shell(spec) {
    const hexPort = spec.port.toString(16).toUpperCase().padStart(4, '0');
    // TCP sockets listen in state 0A; unconnected UDP sockets sit in 07.
    const state = spec.proto === 'tcp' ? '0A' : '07';
    return [
      `a=$(cat /proc/net/${spec.proto} /proc/net/${spec.proto}6 2>/dev/null | awk '$4 == "${state}" { n = split($2, x, ":"); if (x[n] == "${hexPort}") { printf "%s%s", s, x[1]; s = " " } }')`,
      `printf '{"addresses":'; _s "$a"; printf '}'`,
    ].join('\n');
  },
};
