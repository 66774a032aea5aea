// env-files (built in, not declared): every secret env file gangway wrote is 0600 and its
// folder 0700, so no other user on the host can read a secret.
import { z } from 'zod';
import { ENV_DIR } from '../../app/env-file.js';
import { expectation, itemSchema, text, type Resource } from './resource.js';

const envFilesSchema = itemSchema('env-files', z.string(), {});
export type EnvFilesSpec = z.output<typeof envFilesSchema>;

export const envFilesResource: Resource<EnvFilesSpec> = {
  type: 'env-files',
  schema: envFilesSchema,
  description: `Secret env files (${ENV_DIR}/*.env) are 0600 in a 0700 folder.`,
  subject: (s) => s['env-files'],
  evaluate(_spec, facts) {
    const dirMode = text(facts.dir);
    const out = dirMode ? [expectation(`mode of ${ENV_DIR}`, '700', dirMode, dirMode === '700')] : [];
    for (const line of (text(facts.files) ?? '').split('\n').filter(Boolean)) {
      const [mode, ...name] = line.split(' ');
      out.push(expectation(`mode of ${name.join(' ')}`, '600', mode ?? '?', mode === '600'));
    }
    if (out.length === 0) out.push(expectation('env files', 'mode 600 when present', 'none on this host', true));
    return out;
  },
};
