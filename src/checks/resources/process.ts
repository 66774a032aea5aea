// process: running (by the kernel's process name, /proc/<pid>/comm) and how many.
import { z } from 'zod';
import { expectation, itemSchema, num, type Resource } from './resource.js';

const processSchema = itemSchema('process', z.string().min(1).regex(/^[^\n/]+$/, { message: 'expected a process name (no / or newline)' }).describe('Process name as in /proc/<pid>/comm (ps -o comm).'), {
  running: z.boolean().default(true),
  count: z.int().min(0).optional().describe('Exact number of processes with that name.'),
});
export type ProcessSpec = z.output<typeof processSchema>;

/** The kernel keeps only the first 15 bytes of a process name. */
export const COMM_LENGTH = 15;

export const processResource: Resource<ProcessSpec> = {
  type: 'process',
  schema: processSchema,
  description: 'A process by name: running, count.',
  subject: (s) => s.process,
  evaluate(spec, facts) {
    const count = num(facts.count) ?? 0;
    const out = [expectation('running', spec.running ? 'running' : 'not running', count > 0 ? `${count} running` : 'not running', spec.running === count > 0)];
    if (spec.count !== undefined) out.push(expectation('count', String(spec.count), String(count), count === spec.count));
    return out;
  },
};
