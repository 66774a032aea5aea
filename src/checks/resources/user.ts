// user: exists, uid, gid, home, shell, and groups it belongs to.
import { z } from 'zod';
import { existence, expectation, itemSchema, show, text, type Resource } from './resource.js';

export const ACCOUNT_NAME = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/, { message: 'expected an account name' });

const userSchema = itemSchema('user', ACCOUNT_NAME.describe('User name.'), {
  exists: z.boolean().default(true),
  uid: z.int().min(0).optional(),
  gid: z.int().min(0).optional(),
  home: z.string().min(1).optional(),
  shell: z.string().min(1).optional(),
  groups: z.array(ACCOUNT_NAME).optional().describe('Groups the user must be in (others are allowed).'),
});
export type UserSpec = z.output<typeof userSchema>;

export const userResource: Resource<UserSpec> = {
  type: 'user',
  schema: userSchema,
  description: 'A user account: exists, uid, gid, home, shell, groups.',
  subject: (s) => s.user,
  evaluate(spec, facts) {
    const present = facts.exists === true;
    const out = [existence('exists', spec.exists, present)];
    if (!present || !spec.exists) return out;
    const field = (k: string) => text(facts[k]);
    if (spec.uid !== undefined) out.push(expectation('uid', String(spec.uid), show(field('uid')), field('uid') === String(spec.uid)));
    if (spec.gid !== undefined) out.push(expectation('gid', String(spec.gid), show(field('gid')), field('gid') === String(spec.gid)));
    if (spec.home !== undefined) out.push(expectation('home', spec.home, show(field('home')), field('home') === spec.home));
    if (spec.shell !== undefined) out.push(expectation('shell', spec.shell, show(field('shell')), field('shell') === spec.shell));
    const groups = (field('groups') ?? '').split(/\s+/).filter(Boolean);
    for (const g of spec.groups ?? []) out.push(expectation('group', g, groups.join(', ') || '(none)', groups.includes(g)));
    return out;
  },
};
