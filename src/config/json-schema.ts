// The JSON Schema editors use to check and complete gangway.yml. Generated from the zod schema's
// input side (what users write: "30s", not milliseconds); committed as schema/gangway.schema.json.
import { z } from 'zod';
import { configSchema } from './schema.js';

export const JSON_SCHEMA_PATH = 'schema/gangway.schema.json';

export function configJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return { $schema, title: 'gangway.yml', ...rest };
}

/** The exact text of the committed file, so staleness is a string comparison. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
