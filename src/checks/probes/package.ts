// package: one dpkg-query for every package of the script (rpm -q per check where there is no
// dpkg). Each check then reads its own line with builtins.
import type { PackageSpec } from '../resources/package.js';
import { lit, q, type Probe } from './probe.js';

/** dpkg-query knows a package by its name without the :arch suffix. */
const dpkgName = (name: string) => name.split(':')[0]!;

export const packageProbe: Probe<PackageSpec> = {
  type: 'package',
  prelude(specs) {
    const names = [...new Set(specs.map((s) => dpkgName(s.package)))].map(q).join(' ');
    return [
      'if command -v dpkg-query >/dev/null 2>&1; then _pkm=dpkg',
      `  _pk="$_nl$(dpkg-query -W -f=${q('${Package}|${Status}|${Version}\\n')} ${names} 2>/dev/null)$_nl"`,
      'elif command -v rpm >/dev/null 2>&1; then _pkm=rpm; else _pkm=; fi',
    ].join('\n');
  },
  shell(spec) {
    return [
      `n=${q(dpkgName(spec.package))}`,
      'case $_pkm in',
      // "install ok installed" or "hold ok installed": the last word is what counts.
      `dpkg) if _line "$_pk" "$n|" && case \${r%%|*} in *' installed') true;; *) false;; esac; then printf '{"manager":"dpkg","installed":true,"version":'; _s "\${r#*|}"; printf '}'; else printf '{"manager":"dpkg","installed":false}'; fi;;`,
      `rpm) v=$(rpm -q --qf ${q('%{VERSION}-%{RELEASE}')} ${q(spec.package)} 2>/dev/null) && i=true || i=false; printf '{"manager":"rpm","installed":%s,"version":' "$i"; _s "$v"; printf '}';;`,
      `*) ${lit('{"manager":null}')};;`,
      'esac',
    ].join('\n');
  },
};
