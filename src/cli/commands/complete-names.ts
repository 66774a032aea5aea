// `gangway __complete roles|hosts|accessories|destinations` (hidden): the names a completion
// script offers, one per line, from the config that -c and -d name. It reads files only, never
// connects, runs no hook, and prints nothing at all when anything is wrong (a Tab must not
// print errors into the user's command line).
import { readdir } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import { allAccessoryHosts } from '../../provision/accessory-spec.js';
import { NAME_KINDS, type NameKind } from '../completion/spec.js';
import type { GlobalOptions } from '../context.js';

/** Pure: the names of one kind in a loaded config, in config order. */
export function configNames(loaded: LoadedConfig, kind: Exclude<NameKind, 'destinations'>): string[] {
  switch (kind) {
    case 'roles': return loaded.roles.map((r) => r.name);
    case 'accessories': return Object.keys(loaded.config.accessories);
    case 'hosts': return [...new Set([...loaded.hostTargets.map((h) => h.name), ...allAccessoryHosts(loaded.config)])];
  }
}

/** gangway.<name>.yml files beside the config: the destinations -d can name. */
async function destinations(file: string): Promise<string[]> {
  const ext = extname(file) || '.yml';
  const stem = basename(file, extname(file));
  const names = await readdir(dirname(file));
  return names
    .filter((n) => n.startsWith(`${stem}.`) && n.endsWith(ext) && n.length > stem.length + 1 + ext.length)
    .map((n) => n.slice(stem.length + 1, -ext.length))
    .filter((n) => /^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(n))
    .sort();
}

export async function run(globals: GlobalOptions, args: unknown[]): Promise<number> {
  const kind = String(args[0] ?? '') as NameKind;
  if (!(NAME_KINDS as readonly string[]).includes(kind)) return 2;
  try {
    const file = resolve(process.cwd(), globals.config);
    const names =
      kind === 'destinations'
        ? await destinations(file)
        : configNames(await loadConfig({ file, cwd: process.cwd(), env: process.env, ...(globals.destination !== undefined ? { destination: globals.destination } : {}) }), kind);
    if (names.length > 0) process.stdout.write(`${names.join('\n')}\n`);
    return 0;
  } catch {
    return 1;
  }
}
