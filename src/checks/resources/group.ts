// group: exists, gid.
import { z } from 'zod';
import { existence, expectation, itemSchema, show, text, type Resource } from './resource.js';
import { ACCOUNT_NAME } from './user.js';

const groupSchema = itemSchema('group', ACCOUNT_NAME.describe('Group name.'), {
  exists: z.boolean().default(true),
  gid: z.int().min(0).optional(),
});
export type GroupSpec = z.output<typeof groupSchema>;

export const groupResource: Resource<GroupSpec> = {
  type: 'group',
  schema: groupSchema,
  description: 'A group: exists, gid.',
  subject: (s) => s.group,
  evaluate(spec, facts) {
    const present = facts.exists === true;
    const out = [existence('exists', spec.exists, present)];
    if (present && spec.exists && spec.gid !== undefined) out.push(expectation('gid', String(spec.gid), show(text(facts.gid)), text(facts.gid) === String(spec.gid)));
    return out;
  },
};
