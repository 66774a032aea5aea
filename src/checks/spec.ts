// The `verify:` section (in gangway.yml, or a file of its own): checks per role and per host.
// Each item names its resource by its one resource key (`file: /etc/x`, `port: 80`) plus that
// resource's attributes. Items are validated against the matching resource's schema, so a
// typo gets "did you mean" and a bad value gets the config loader's own message and position.
import { z } from 'zod';
import { closest, distance } from 'fastest-levenshtein';
import { DECLARABLE_TYPES, RESOURCE_KINDS, resourceKind } from './registry.js';
import type { CheckSpec } from './types.js';

// Not config/issues.ts's suggestKey: the config schema imports this module, and importing the
// config modules back from here would make the cycle visible at load time.
function suggestKey(unknown: string, known: string[]): string | undefined {
  if (known.length === 0) return undefined;
  const best = closest(unknown, known);
  return distance(unknown, best) <= Math.max(2, Math.floor(unknown.length / 3)) ? best : undefined;
}

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

type IssueSink = { issues: unknown[] };

function custom(ctx: IssueSink, input: unknown, message: string, path: Array<string | number> = []): typeof z.NEVER {
  ctx.issues.push({ code: 'custom', message, path, input });
  return z.NEVER;
}

function parseItem(value: unknown, ctx: IssueSink): CheckSpec {
  const known = `one of ${DECLARABLE_TYPES.join(', ')}`;
  if (!isMapping(value)) return custom(ctx, value, `expected a check: a mapping with a resource key (${known})`);
  const keys = Object.keys(value);
  const types = keys.filter((k) => DECLARABLE_TYPES.includes(k));
  if (types.length === 0) {
    for (const key of keys) {
      const guess = suggestKey(key, [...DECLARABLE_TYPES]);
      if (guess) return custom(ctx, value, `unknown resource \`${key}\` — did you mean \`${guess}\`?`, [key]);
    }
    return custom(ctx, value, `a check needs a resource key: ${known}`);
  }
  // One resource key names the resource; the others may be its attributes (a file's `group`, a
  // container's `image`, a certificate's `port`): the resource whose attributes hold all the
  // others, whatever the order they were written in; else the first, and the others are extra.
  const shapeOf = (type: string) => (resourceKind(type).resource.schema as unknown as { shape: Record<string, unknown> }).shape;
  const named = types.find((t) => types.every((o) => o === t || o in shapeOf(t))) ?? types[0]!;
  const kind = resourceKind(named);
  const shape = shapeOf(named);
  const extra = types.filter((t) => t !== named && !(t in shape));
  if (extra.length > 0) return custom(ctx, value, `a check has one resource key, found ${[named, ...extra].join(' and ')}: split it into ${extra.length + 1} checks`, [extra[0]!]);
  const parsed = kind.resource.schema.safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        const attrs = Object.keys(shape);
        for (const key of issue.keys) {
          const guess = suggestKey(key, attrs);
          custom(ctx, value, `unknown key \`${key}\` for a ${kind.resource.type} check — ${guess ? `did you mean \`${guess}\`?` : `known keys: ${attrs.join(', ')}`}`, [...issue.path.filter((p): p is string | number => typeof p !== 'symbol'), key]);
        }
      } else {
        ctx.issues.push({ ...issue, input: value });
      }
    }
    return z.NEVER;
  }
  const spec = parsed.data as Record<string, unknown>;
  return {
    type: kind.resource.type,
    subject: (kind.resource.subject as (s: Record<string, unknown>) => string)(spec),
    spec,
    ...(typeof spec.title === 'string' ? { title: spec.title } : {}),
  };
}

let itemJsonSchemas: unknown[] | undefined;
/** Per-resource JSON Schemas for editors, computed only when the JSON Schema is generated. */
function itemAlternatives(): unknown[] {
  itemJsonSchemas ??= RESOURCE_KINDS.filter((k) => !k.builtIn).map((k) => {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(k.resource.schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    return { ...rest, description: k.resource.description };
  });
  return itemJsonSchemas;
}

const checkItemSchema = z
  .unknown()
  .transform((value, ctx) => parseItem(value, ctx))
  .meta({ get anyOf() { return itemAlternatives(); } } as Record<string, unknown>)
  .describe('One check: a resource key (file, port, command...) with what to look at, and its attributes.');

const checkList = z.array(checkItemSchema);

export const verifySchema = z
  .strictObject({
    roles: z.record(z.string().min(1), checkList).default({}).describe('Checks run on every host of a role, by role name.'),
    hosts: z.record(z.string().min(1), checkList).default({}).describe('Checks run on one host, by host name.'),
  })
  .describe('Checks of the hosts\' real state, run by `gangway verify` (one round trip per host).');

export type VerifySpec = z.output<typeof verifySchema>;
export const EMPTY_VERIFY_SPEC: VerifySpec = { roles: {}, hosts: {} };
