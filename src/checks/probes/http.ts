// http: curl writes the status with -w; busybox/GNU wget print the status line with -S.
import type { HttpSpec } from '../resources/http.js';
import { lit, q, type Probe } from './probe.js';

export const httpProbe: Probe<HttpSpec> = {
  type: 'http',
  needsTempDir: true,
  shell(spec) {
    const seconds = Math.max(1, Math.ceil(spec.timeout / 1000));
    const url = q(spec.http);
    return [
      'rm -f "$_d/b" "$_d/e"; c=',
      'if command -v curl >/dev/null 2>&1; then',
      `  c=$(curl -sS ${spec.insecure ? '-k ' : ''}-o "$_d/b" -w '%{http_code}' --max-time ${seconds} ${url} 2>"$_d/e" </dev/null)`,
      'elif command -v wget >/dev/null 2>&1; then',
      `  wget -q -S ${spec.insecure ? '--no-check-certificate ' : ''}-T ${seconds} -O "$_d/b" ${url} 2>"$_d/e" </dev/null`,
      `  c=$(awk '$1 ~ /^HTTP\\// { c = $2 } END { print c }' "$_d/e")`,
      `else ${lit('{"client":null}')}; c=none; fi`,
      `[ "$c" = none ] || { printf '{"status":'; _n "$c"; printf ',"body":'; _x "$_d/b"; printf ',"error":'; _x "$_d/e"; printf '}'; }`,
    ].join('\n');
  },
};
