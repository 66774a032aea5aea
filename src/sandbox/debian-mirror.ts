// Which Debian mirror the sandbox debootstraps from: the sandbox option, else GANGWAY_DEBIAN_MIRROR,
// else the one this machine's apt already uses for the suite (or, for a suite it does not list,
// the Debian archive it uses). gangway names no mirror of its own:
// a machine behind a company mirror or proxy works as it is, and a machine whose apt has none for
// the suite says so, naming the files it read.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { usageError, operationError } from '../errors.js';
import { archiveOf, mirrorFor, parseSourcesFile } from './apt-sources.js';

export const DEBIAN_MIRROR_ENV = 'GANGWAY_DEBIAN_MIRROR';

export interface SourcesFile {
  path: string;
  text: string;
}

/** apt's own order: sources.list, then sources.list.d/*.list and *.sources by name. Missing ones are skipped. */
export async function readAptSources(aptDir = '/etc/apt'): Promise<SourcesFile[]> {
  const files: SourcesFile[] = [];
  const read = async (path: string) => {
    try {
      files.push({ path, text: await readFile(path, 'utf8') });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  };
  await read(join(aptDir, 'sources.list'));
  let names: string[] = [];
  try {
    names = await readdir(join(aptDir, 'sources.list.d'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const name of names.filter((n) => n.endsWith('.list') || n.endsWith('.sources')).sort()) await read(join(aptDir, 'sources.list.d', name));
  return files;
}

const MIRROR_URL = /^(https?|file):\/\/\S+$/;

export type MirrorChoice = { mirror: string; from: string } | { error: string };

/** Pure: the mirror for `suite` from an explicit setting, the environment, or the apt files given. */
export function chooseDebianMirror(input: { suite: string; option?: string; env: NodeJS.ProcessEnv; files: readonly SourcesFile[] }): MirrorChoice {
  const explicit = input.option !== undefined ? { value: input.option, from: 'the sandbox option debianMirror' } : input.env[DEBIAN_MIRROR_ENV] ? { value: input.env[DEBIAN_MIRROR_ENV], from: DEBIAN_MIRROR_ENV } : undefined;
  if (explicit) {
    const value = explicit.value.trim();
    if (!MIRROR_URL.test(value)) return { error: `${explicit.from}: expected an http://, https:// or file:// URL of a Debian mirror, got ${JSON.stringify(explicit.value)}` };
    return { mirror: value.replace(/\/+$/, ''), from: explicit.from };
  }
  const parsed = input.files.map((file) => ({ path: file.path, sources: parseSourcesFile(file.path, file.text) }));
  for (const file of parsed) {
    const mirror = mirrorFor(file.sources, input.suite);
    if (mirror) return { mirror, from: file.path };
  }
  // A release apt does not list here (the sandbox's Debian 13 proxy on a Debian 12 machine): the
  // archive that serves this machine's own release serves it too.
  for (const file of parsed) {
    const mirror = archiveOf(file.sources);
    if (mirror) return { mirror, from: `${file.path} (the Debian archive it names)` };
  }
  const read = input.files.length > 0 ? `read ${input.files.map((f) => f.path).join(', ')}` : 'found none of sources.list, sources.list.d/*.list, sources.list.d/*.sources';
  return { error: `no Debian mirror for ${input.suite} in this machine's apt sources (${read})` };
}

/** The mirror, or a clear error: exit 2 for a bad setting, 1 when the machine's apt has none. */
export async function resolveDebianMirror(opts: { suite: string; option?: string; env?: NodeJS.ProcessEnv; aptDir?: string }): Promise<{ mirror: string; from: string }> {
  const env = opts.env ?? process.env;
  const explicit = opts.option !== undefined || Boolean(env[DEBIAN_MIRROR_ENV]);
  const files = explicit ? [] : await readAptSources(opts.aptDir);
  const choice = chooseDebianMirror({ suite: opts.suite, ...(opts.option !== undefined ? { option: opts.option } : {}), env, files });
  if ('mirror' in choice) return choice;
  if (explicit) throw usageError(choice.error, { step: 'debootstrap' });
  throw operationError(choice.error, {
    step: 'debootstrap',
    hint: `set ${DEBIAN_MIRROR_ENV} to a Debian mirror URL that serves ${opts.suite} (or add one to apt's sources)`,
  });
}
