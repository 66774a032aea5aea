// Destination overlays: gangway.<dest>.yml deep-merged over gangway.yml before validation.
import { isPlainObject } from './interpolate.js';

/** Maps merge key by key; arrays, scalars and nulls in the overlay replace what was there. */
export function deepMerge(base: unknown, overlay: unknown): unknown {
  if (overlay === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(overlay)) return overlay;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overlay)) out[key] = deepMerge(base[key], value);
  return out;
}
