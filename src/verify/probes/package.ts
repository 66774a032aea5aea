// package: dpkg-query's status line, or rpm -q.
import type { PackageSpec } from '../resources/package.js';
import { lit, q, type Probe } from './probe.js';

export const packageProbe: Probe<PackageSpec> = {
  type: 'package',
  shell(spec) {
    const name = q(spec.package);
    return [
      'if command -v dpkg-query >/dev/null 2>&1; then',
      `  r=$(dpkg-query -W -f=${q('${Status}|${Version}')} ${name} 2>/dev/null)`,
      `  v=\${r#*|}; [ "\${r%%|*}" = "install ok installed" ] && i=true || i=false`,
      `  printf '{"manager":"dpkg","installed":%s,"version":' "$i"; _s "$v"; printf '}'`,
      'elif command -v rpm >/dev/null 2>&1; then',
      `  v=$(rpm -q --qf ${q('%{VERSION}-%{RELEASE}')} ${name} 2>/dev/null) && i=true || i=false`,
      `  printf '{"manager":"rpm","installed":%s,"version":' "$i"; _s "$v"; printf '}'`,
      `else ${lit('{"manager":null}')}; fi`,
    ].join('\n');
  },
};
