// container: a Docker container on the host: running, image, version, health, restarts, labels.
import { z } from 'zod';
import { existence, expectation, itemSchema, labelsMatch, show, type Resource } from './resource.js';

const containerSchema = itemSchema('container', z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, { message: 'expected a container name' }).describe('Container name.'), {
  exists: z.boolean().default(true),
  running: z.boolean().default(true),
  image: z.string().min(1).optional().describe('Exact image reference the container was created from.'),
  version: z.string().min(1).optional().describe('The gangway.version label, else the tag of its image.'),
  health: z.enum(['healthy', 'unhealthy', 'starting', 'none']).optional().describe('Docker health status ("none": no health check).'),
  max_restarts: z.int().min(0).optional().describe('Most restarts allowed (Docker RestartCount).'),
  labels: z.record(z.string(), z.string()).optional().describe('Labels it must have, with these values.'),
});
export type ContainerSpec = z.output<typeof containerSchema>;

export interface ContainerFacts {
  running: boolean;
  status: string;
  health: string | null;
  restarts: number;
  image: string;
  labels: Record<string, string> | null;
}

/** The tag of an image reference: registry:5000/a/b:1.2 -> 1.2 (a digest or no tag -> undefined). */
export function imageTag(ref: string): string | undefined {
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  const at = last.indexOf('@');
  const name = at >= 0 ? last.slice(0, at) : last;
  const colon = name.indexOf(':');
  return colon >= 0 ? name.slice(colon + 1) : undefined;
}

export const containerResource: Resource<ContainerSpec> = {
  type: 'container',
  schema: containerSchema,
  description: 'A Docker container: running, image, version, health, restart count, labels.',
  subject: (s) => s.container,
  evaluate(spec, facts) {
    if (facts.docker === false) return [expectation('docker', 'a docker CLI on the host', 'none found', false)];
    const c = facts.inspect as ContainerFacts | undefined;
    const out = [existence('exists', spec.exists, !!c)];
    if (!c || !spec.exists) return out;
    out.push(expectation('running', spec.running ? 'running' : 'not running', c.status, c.running === spec.running));
    if (spec.image !== undefined) out.push(expectation('image', spec.image, c.image, c.image === spec.image));
    if (spec.version !== undefined) {
      const v = c.labels?.['gangway.version'] ?? imageTag(c.image);
      out.push(expectation('version', spec.version, show(v), v === spec.version));
    }
    if (spec.health !== undefined) out.push(expectation('health', spec.health, c.health ?? 'none', (c.health ?? 'none') === spec.health));
    if (spec.max_restarts !== undefined) out.push(expectation('restarts', `at most ${spec.max_restarts}`, String(c.restarts), c.restarts <= spec.max_restarts));
    out.push(...labelsMatch(spec.labels ?? {}, c.labels ?? undefined));
    return out;
  },
};
