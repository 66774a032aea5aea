// port: a socket listening on a TCP or UDP port, optionally on a given address.
import { z } from 'zod';
import { expectation, itemSchema, text, type Resource } from './resource.js';

const portSchema = itemSchema('port', z.int().min(1).max(65535).describe('Port number.'), {
  proto: z.enum(['tcp', 'udp']).default('tcp'),
  listening: z.boolean().default(true),
  address: z.string().min(1).optional().describe('Address it must listen on exactly (0.0.0.0, ::, 127.0.0.1...).'),
});
export type PortSpec = z.output<typeof portSchema>;

/** /proc/net/tcp hex address -> text: 0100007F -> 127.0.0.1; 32 hex digits -> IPv6. */
export function decodeProcAddress(hex: string): string {
  const bytes = (h: string) => (h.match(/../g) ?? []).map((b) => parseInt(b, 16));
  if (hex.length === 8) return bytes(hex).reverse().join('.');
  // IPv6: four 32-bit words, each in host (little-endian) order.
  const words = (hex.match(/.{8}/g) ?? []).flatMap((w) => bytes(w).reverse());
  if (words.slice(0, 10).every((b) => b === 0) && words[10] === 0xff && words[11] === 0xff) return `::ffff:${words.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((words[i]! << 8) | words[i + 1]!).toString(16));
  const joined = groups.join(':');
  const zeros = /(^|:)0(:0)+(:|$)/.exec(joined);
  if (!zeros) return joined;
  return `${joined.slice(0, zeros.index)}::${joined.slice(zeros.index + zeros[0].length)}`;
}

/**
 * One listening address as the probe sends it: the kernel's hex from /proc/net, or text from ss
 * (`[::]`, `127.0.0.53%lo`, `*` for a dual-stack wildcard, which /proc shows as tcp6 `::`).
 */
export function decodeListenAddress(token: string): string {
  if (/^[0-9A-F]+$/.test(token) && (token.length === 8 || token.length === 32)) return decodeProcAddress(token);
  if (token === '*') return '::';
  return token.replace(/%[^%\]]*$/, '').replace(/^\[(.*)\]$/, '$1');
}

export const portResource: Resource<PortSpec> = {
  type: 'port',
  schema: portSchema,
  description: 'A listening TCP or UDP port, optionally on an exact address.',
  subject: (s) => `${s.proto}/${s.port}`,
  evaluate(spec, facts) {
    const addresses = (text(facts.addresses) ?? '').split(/\s+/).filter(Boolean).map(decodeListenAddress);
    const shown = addresses.length ? [...new Set(addresses)].join(', ') : 'not listening';
    const out = [expectation('listening', spec.listening ? 'listening' : 'not listening', addresses.length ? `listening on ${shown}` : shown, spec.listening === addresses.length > 0)];
    if (spec.listening && spec.address !== undefined) out.push(expectation('address', spec.address, shown, addresses.includes(spec.address)));
    return out;
  },
};
