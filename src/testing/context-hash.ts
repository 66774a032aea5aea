// A content hash of a Docker build context: same files, same Dockerfile, same args -> same tag,
// so an unchanged image is never rebuilt.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface BuildInputs {
  contextDir: string;
  dockerfile: string;
  buildArgs: Readonly<Record<string, string>>;
}

/** Relative paths of every file under `dir`, sorted, with '/' separators. */
export async function listContextFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true });
    for (const entry of entries) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  await walk(dir);
  return out.sort();
}

export async function hashBuildContext(inputs: BuildInputs, files: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`dockerfile\0${inputs.dockerfile}\0`);
  for (const [k, v] of Object.entries(inputs.buildArgs).sort(([a], [b]) => a.localeCompare(b))) hash.update(`arg\0${k}\0${v}\0`);
  for (const file of files) {
    const full = join(inputs.contextDir, file);
    const stat = await lstat(full);
    // The mode matters: an executable bit changes what the image does.
    hash.update(`file\0${file}\0${stat.mode.toString(8)}\0`);
    hash.update(stat.isSymbolicLink() ? `link\0${await readlink(full)}` : await readFile(full));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}
