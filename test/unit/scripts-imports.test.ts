// The set-up scripts import gangway's built modules by path (scripts/*.mjs -> ../dist/...): a name
// that a clean-up drops from a module's exports breaks the main job (scripts/demo.sh) while the
// typecheck, the lint and every test stay green, as happened once. Each named import must be an
// export of the source module the dist path is built from.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPTS = join(ROOT, 'scripts');

/** Named imports from '../dist/X.js' in a script, as [names, source path of X]. */
function distImports(text: string): Array<{ names: string[]; source: string }> {
  const found: Array<{ names: string[]; source: string }> = [];
  for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'\.\.\/dist\/([^']+)\.js'/g)) {
    const names = m[1]!.split(',').map((n) => n.trim().split(/\s+as\s+/)[0]!.trim()).filter(Boolean);
    found.push({ names, source: join(ROOT, 'src', `${m[2]}.ts`) });
  }
  return found;
}

const scripts = readdirSync(SCRIPTS).filter((f) => f.endsWith('.mjs'));

describe('the set-up scripts import what the modules export', () => {
  it('finds the scripts and their imports of the built modules', () => {
    expect(scripts).toContain('demo-images.mjs');
    expect(distImports(readFileSync(join(SCRIPTS, 'demo-images.mjs'), 'utf8')).flatMap((i) => i.names)).toContain('ensureBusyboxImage');
  });

  for (const script of scripts) {
    it(`scripts/${script}`, async () => {
      for (const { names, source } of distImports(readFileSync(join(SCRIPTS, script), 'utf8'))) {
        const mod = (await import(source)) as Record<string, unknown>;
        for (const name of names) expect(mod[name], `${name} from ${source.slice(ROOT.length)}`).toBeDefined();
      }
    });
  }
});
