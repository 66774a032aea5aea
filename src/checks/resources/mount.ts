// mount: a mount point: mounted, filesystem type, source, options.
import { z } from 'zod';
import { existence, expectation, itemSchema, show, text, type Resource } from './resource.js';
import { absolutePath } from './resource.js';

const mountSchema = itemSchema('mount', absolutePath.describe('Mount point.'), {
  mounted: z.boolean().default(true),
  fstype: z.string().min(1).optional(),
  source: z.string().min(1).optional(),
  options: z.array(z.string().min(1)).optional().describe('Mount options it must have (ro, nosuid...).'),
});
export type MountSpec = z.output<typeof mountSchema>;

/** /proc/mounts escapes space, tab, newline and backslash as octal. */
export function escapeMountPath(path: string): string {
  return path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

export const mountResource: Resource<MountSpec> = {
  type: 'mount',
  schema: mountSchema,
  description: 'A mount point: mounted, fstype, source, options.',
  subject: (s) => s.mount,
  evaluate(spec, facts) {
    const present = facts.mounted === true;
    const out = [existence('mounted', spec.mounted, present)];
    if (!present || !spec.mounted) return out;
    const fstype = text(facts.fstype);
    const source = text(facts.source);
    const options = (text(facts.options) ?? '').split(',');
    if (spec.fstype !== undefined) out.push(expectation('fstype', spec.fstype, show(fstype), fstype === spec.fstype));
    if (spec.source !== undefined) out.push(expectation('source', spec.source, show(source), source === spec.source));
    for (const o of spec.options ?? []) out.push(expectation('option', o, options.join(','), options.includes(o)));
    return out;
  },
};
