// image: a Docker image present on the host, and its labels.
import { z } from 'zod';
import { existence, expectation, itemSchema, labelsMatch, type Resource } from './resource.js';

const imageSchema = itemSchema('image', z.string().min(1).regex(/^[^\s]+$/, { message: 'expected an image reference' }).describe('Image reference (name:tag) or id.'), {
  exists: z.boolean().default(true),
  labels: z.record(z.string(), z.string()).optional(),
});
export type ImageSpec = z.output<typeof imageSchema>;

export const imageResource: Resource<ImageSpec> = {
  type: 'image',
  schema: imageSchema,
  description: 'A Docker image on the host: present, labels.',
  subject: (s) => s.image,
  evaluate(spec, facts) {
    if (facts.docker === false) return [expectation('docker', 'a docker CLI on the host', 'none found', false)];
    const img = facts.inspect as { id: string; labels: Record<string, string> | null } | null | undefined;
    const out = [existence('exists', spec.exists, !!img)];
    if (img && spec.exists) out.push(...labelsMatch(spec.labels ?? {}, img.labels ?? undefined));
    return out;
  },
};
