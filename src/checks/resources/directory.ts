// directory: exists, mode, owner, group.
import { z } from 'zod';
import { absolutePath, existence, expectation, itemSchema, octalMode, type Resource } from './resource.js';
import { statExpectations } from './file.js';

const directorySchema = itemSchema('directory', absolutePath.describe('Path of the directory.'), {
  exists: z.boolean().default(true),
  mode: octalMode.optional(),
  owner: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
});
export type DirectorySpec = z.output<typeof directorySchema>;

export const directoryResource: Resource<DirectorySpec> = {
  type: 'directory',
  schema: directorySchema,
  description: 'A directory: existence, mode, owner, group.',
  subject: (s) => s.directory,
  evaluate(spec, facts) {
    const present = facts.exists === true;
    const out = [existence('exists', spec.exists, present)];
    if (!present || !spec.exists) return out;
    out.push(expectation('type', 'directory', String(facts.type), facts.type === 'directory'));
    out.push(...statExpectations(spec, facts));
    return out;
  },
};
