// Writes schema/gangway.schema.json from the zod schema. Run: npm run schema
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchemaText, JSON_SCHEMA_PATH } from '../src/config/json-schema.js';

const target = fileURLToPath(new URL(`../${JSON_SCHEMA_PATH}`, import.meta.url));
writeFileSync(target, configJsonSchemaText());
process.stdout.write(`wrote ${JSON_SCHEMA_PATH}\n`);
