// The config as it may be shown: registry password and every string that contains a secret
// value replaced by [redacted].
import { isPlainObject } from './interpolate.js';
import type { Config } from './schema.js';
import { MIN_SECRET_LENGTH } from '../events/events.js';

const REDACTED = '[redacted]';

// Below this length a "contains" match would hide ordinary words; equality still redacts. (The
// loader refuses such secrets; this is for callers that build `secrets` themselves.)
const MIN_CONTAINED_SECRET_LENGTH = MIN_SECRET_LENGTH;

function redactValue(value: unknown, secretValues: string[]): unknown {
  if (typeof value === 'string') {
    const hit = secretValues.some((s) => value === s || (s.length >= MIN_CONTAINED_SECRET_LENGTH && value.includes(s)));
    return hit ? REDACTED : value;
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, secretValues));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, secretValues);
    return out;
  }
  return value;
}

export function redactConfig(loaded: { config: Config; secrets: Record<string, string> }): Config {
  const secretValues = Object.values(loaded.secrets).filter((s) => s !== '');
  const redacted = redactValue(loaded.config, secretValues) as Config;
  if (redacted.registry?.password !== undefined) redacted.registry.password = REDACTED;
  return redacted;
}
