// sysctl: a kernel parameter's value, read from /proc/sys.
import { z } from 'zod';
import { existence, expectation, itemSchema, show, text, type Resource } from './resource.js';

const sysctlSchema = itemSchema('sysctl', z.string().regex(/^[A-Za-z0-9_-]+([./][A-Za-z0-9_*-]+)*$/, { message: 'expected a kernel parameter such as net.ipv4.ip_forward' }).describe('Kernel parameter, e.g. net.ipv4.ip_forward.'), {
  value: z.union([z.string(), z.number()]).transform(String).optional().describe('Value (whitespace between fields is ignored).'),
});
export type SysctlSpec = z.output<typeof sysctlSchema>;

export const sysctlPath = (key: string): string => `/proc/sys/${key.replace(/\./g, '/')}`;
const normalize = (v: string) => v.trim().split(/\s+/).join(' ');

export const sysctlResource: Resource<SysctlSpec> = {
  type: 'sysctl',
  schema: sysctlSchema,
  description: 'A kernel parameter (/proc/sys): value.',
  subject: (s) => s.sysctl,
  evaluate(spec, facts) {
    const present = facts.exists === true;
    const out = [existence('exists', true, present)];
    if (present && spec.value !== undefined) {
      const v = text(facts.value);
      out.push(expectation('value', show(normalize(spec.value)), show(v === undefined ? undefined : normalize(v)), v !== undefined && normalize(v) === normalize(spec.value)));
    }
    return out;
  },
};
