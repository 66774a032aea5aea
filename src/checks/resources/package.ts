// package: installed (dpkg; rpm where there is no dpkg) and its exact version.
import { z } from 'zod';
import { existence, expectation, itemSchema, show, text, type Resource } from './resource.js';

const packageSchema = itemSchema('package', z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._:-]*$/, { message: 'expected a package name' }).describe('Package name.'), {
  installed: z.boolean().default(true),
  version: z.string().min(1).optional().describe('Exact version, as dpkg-query shows it.'),
});
export type PackageSpec = z.output<typeof packageSchema>;

export const packageResource: Resource<PackageSpec> = {
  type: 'package',
  schema: packageSchema,
  description: 'A system package: installed, version (dpkg, else rpm).',
  subject: (s) => s.package,
  evaluate(spec, facts) {
    if (facts.manager === null) return [expectation('package manager', 'dpkg or rpm', 'none found', false)];
    const installed = facts.installed === true;
    const out = [existence('installed', spec.installed, installed)];
    if (installed && spec.installed && spec.version !== undefined) {
      const v = text(facts.version);
      out.push(expectation('version', show(spec.version), show(v), v === spec.version));
    }
    return out;
  },
};
