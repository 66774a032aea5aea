// file: exists, type, mode, owner, group, contents (substring or POSIX ERE, per line) and sha256.
import { z } from 'zod';
import type { Expectation, Facts } from '../types.js';
import { absolutePath, existence, expectation, itemSchema, normalizeMode, octalMode, oneOrMany, show, text, type Resource } from './resource.js';

const fileSchema = itemSchema('file', absolutePath.describe('Path of the file.'), {
  exists: z.boolean().default(true),
  mode: octalMode.optional().describe('Octal mode in quotes, e.g. "0644".'),
  owner: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
  contains: oneOrMany().optional().describe('Text the file contains (grep -F on the host).'),
  matches: oneOrMany().optional().describe('POSIX extended regular expression(s) some line matches (grep -E on the host).'),
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, { message: 'expected 64 hex digits' }).optional(),
});
export type FileSpec = z.output<typeof fileSchema>;

/** Shared by file and directory: the attributes stat answers. */
export function statExpectations(spec: { mode?: string; owner?: string; group?: string }, facts: Facts): Expectation[] {
  const out: Expectation[] = [];
  const mode = text(facts.mode);
  if (spec.mode !== undefined) out.push(expectation('mode', normalizeMode(spec.mode), mode ? normalizeMode(mode) : '(unknown)', mode !== undefined && normalizeMode(mode) === normalizeMode(spec.mode)));
  if (spec.owner !== undefined) out.push(expectation('owner', spec.owner, text(facts.owner) ?? '(unknown)', text(facts.owner) === spec.owner));
  if (spec.group !== undefined) out.push(expectation('group', spec.group, text(facts.group) ?? '(unknown)', text(facts.group) === spec.group));
  return out;
}

export const fileResource: Resource<FileSpec> = {
  type: 'file',
  schema: fileSchema,
  description: 'A file: existence, mode, owner, group, contents, sha256.',
  subject: (s) => s.file,
  evaluate(spec, facts) {
    const present = facts.exists === true;
    const out = [existence('exists', spec.exists, present)];
    if (!present || !spec.exists) return out;
    out.push(expectation('type', 'file', String(facts.type), facts.type === 'file'));
    out.push(...statExpectations(spec, facts));
    const found = (list: unknown, i: number) => Array.isArray(list) && list[i] === true;
    spec.contains?.forEach((s, i) => out.push(expectation('contains', show(s), found(facts.contains, i) ? 'found' : 'not found', found(facts.contains, i))));
    spec.matches?.forEach((s, i) => out.push(expectation('matches', `/${s}/`, found(facts.matches, i) ? 'a line matches' : 'no line matches', found(facts.matches, i))));
    if (spec.sha256 !== undefined) {
      const sum = text(facts.sha256) ?? '';
      out.push(expectation('sha256', spec.sha256.toLowerCase(), sum || '(unknown)', sum === spec.sha256.toLowerCase()));
    }
    return out;
  },
};
