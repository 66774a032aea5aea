// schema/gangway.schema.json is generated from the zod schema and must not go stale.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, configJsonSchemaText, JSON_SCHEMA_PATH } from '../../src/config/json-schema.js';

const committedUrl = new URL(`../../${JSON_SCHEMA_PATH}`, import.meta.url);

describe('JSON Schema for editors', () => {
  it('the committed file matches the zod schema', () => {
    const committed = readFileSync(committedUrl, 'utf8');
    const fresh = configJsonSchemaText();
    if (committed !== fresh) {
      throw new Error(`${JSON_SCHEMA_PATH} is stale: regenerate it with \`npm run schema\` (npx tsx scripts/gen-schema.ts) and commit it`);
    }
    expect(committed).toBe(fresh);
  });

  it('describes what users write: durations as text, no unknown keys', () => {
    const schema = configJsonSchema() as { properties: Record<string, { type?: string; pattern?: string }>; additionalProperties: boolean; required: string[] };
    expect(schema.properties.drain_timeout).toMatchObject({ type: 'string' });
    expect(schema.properties.drain_timeout?.pattern).toContain('ms|s|m|h');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['service', 'image', 'servers']);
  });
});
