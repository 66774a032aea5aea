// http: a URL fetched ON the host (curl, else wget): status and body.
import { z } from 'zod';
import { containsAll, expectation, itemSchema, matchesAll, num, oneOrMany, regexText, show, text, timeoutMs, type Resource } from './resource.js';

const httpSchema = itemSchema('http', z.string().regex(/^https?:\/\/[^\s]+$/, { message: 'expected an http:// or https:// URL' }).describe('URL, fetched on the host itself.'), {
  status: z.int().min(100).max(599).default(200),
  body: oneOrMany().optional().describe('Text the body contains.'),
  body_matches: oneOrMany(regexText).optional(),
  timeout: timeoutMs.default(5000),
  insecure: z.boolean().default(false).describe('Accept any TLS certificate.'),
});
export type HttpSpec = z.output<typeof httpSchema>;

export const httpResource: Resource<HttpSpec> = {
  type: 'http',
  schema: httpSchema,
  description: 'An HTTP(S) URL fetched on the host: status, body.',
  subject: (s) => s.http,
  evaluate(spec, facts) {
    if (facts.client === null) return [expectation('http client', 'curl or wget on the host', 'neither found', false)];
    const status = num(facts.status);
    const body = text(facts.body);
    const error = text(facts.error)?.trim();
    return [
      expectation('status', String(spec.status), status === undefined ? `no response${error ? ` (${show(error.split('\n')[0])})` : ''}` : String(status), status === spec.status),
      ...containsAll('body', spec.body ?? [], body),
      ...matchesAll('body', spec.body_matches ?? [], body),
    ];
  },
};
