// Content hashes that name cached images and tell specs apart: the same inputs always give the
// same hash, and any changed byte (Dockerfile, copied file, package list, accessory spec) a new
// one. A leaf of its own: the sandbox's images and provision's accessories both use it.
import { createHash } from 'node:crypto';

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** Length of the hash in image tags: short enough to read, long enough not to collide here. */
export const HASH_TAG_LENGTH = 12;

/**
 * Hash of a JSON-able value with object keys sorted, so that the order in which a builder
 * lists its inputs does not change the tag.
 */
export function contentHash(value: unknown): string {
  return sha256Hex(canonicalJson(value)).slice(0, HASH_TAG_LENGTH);
}

export function canonicalJson(value: unknown): string {
  if (Buffer.isBuffer(value)) return JSON.stringify(`sha256:${sha256Hex(value)}`);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
