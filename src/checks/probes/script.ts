// One POSIX sh script per host for all its checks: one round trip. Each check prints one line
// {"i":<index>,"f":<facts>}; a check that breaks loses only its own line. Everything runs inside
// one function called with stdin from /dev/null: the script itself arrives on sh's stdin, and a
// command that read stdin would otherwise eat the rest of it.
import type { CheckSpec } from '../types.js';
import { SHELL_HELPERS, type Probe } from './probe.js';

export const SCRIPT_END_MARKER = '{"end":true}';

export function buildScript(checks: ReadonlyArray<Pick<CheckSpec, 'type' | 'spec'>>, probeOf: (type: string) => Probe<never>): string {
  const probes = checks.map((c) => probeOf(c.type));
  const needsTemp = probes.some((p) => p.needsTempDir);
  const lines = [
    `# gangway verify: ${checks.length} check(s)`,
    'LC_ALL=C; export LC_ALL',
    SHELL_HELPERS,
    '_main() {',
    ...(needsTemp ? ['_d=$(mktemp -d 2>/dev/null) || { _d=/tmp/gangway-verify.$$; mkdir -m 700 "$_d" || exit 3; }', "trap 'rm -rf \"$_d\"' EXIT"] : []),
  ];
  const byType = new Map<string, Array<Record<string, unknown>>>();
  checks.forEach((c) => byType.set(c.type, [...(byType.get(c.type) ?? []), c.spec]));
  for (const [type, specs] of byType) {
    const probe = probeOf(type) as Probe<Record<string, unknown>>;
    if (probe.prelude) lines.push(probe.prelude(specs));
  }
  checks.forEach((c, i) => {
    lines.push(`printf '{"i":${i},"f":'`);
    lines.push((probes[i] as Probe<Record<string, unknown>>).shell(c.spec));
    lines.push(`printf '}\\n'`);
  });
  lines.push(`printf '%s\\n' '${SCRIPT_END_MARKER}'`, '}', '_main </dev/null', '');
  return lines.join('\n');
}
