// Where gangway's own files (examples/) live, whether running from src/ (tsx, vitest) or dist/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'gangway') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find gangway's package.json above ${from}`);
    dir = parent;
  }
}
