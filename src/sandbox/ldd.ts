// Which shared libraries a Debian binary needs, so it can run in a FROM scratch image.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { operationError } from '../errors.js';
import { fileEntry, type ContextEntry } from './image-spec.js';

const execFileAsync = promisify(execFile);

/**
 * Absolute library paths from `ldd` output. The vDSO has no file; a "not found" library
 * means the binary cannot run anywhere, so it is an error rather than a silent skip.
 */
export function parseLdd(output: string): string[] {
  const paths: string[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('linux-vdso') || line.startsWith('statically linked')) continue;
    if (line.includes('=> not found')) throw new Error(`missing library: ${line.split(' ')[0]}`);
    const arrow = /=>\s+(\/\S+)/.exec(line);
    const direct = /^(\/\S+)/.exec(line);
    const path = arrow?.[1] ?? direct?.[1];
    if (path && !paths.includes(path)) paths.push(path);
  }
  return paths;
}

/**
 * Context entries for `binary` and every library it loads, placed under `prefix` at their
 * absolute paths. Libraries are copied by content (symlinks resolved), so the scratch image
 * needs no link farm.
 */
export async function binaryWithLibraries(binary: string, prefix: string): Promise<ContextEntry[]> {
  let lddOutput: string;
  try {
    lddOutput = (await execFileAsync('ldd', [binary])).stdout;
  } catch (err) {
    throw operationError(`cannot list the libraries of ${binary}`, { step: 'image', cause: err, hint: 'run scripts/setup.sh to install the Debian packages the sandbox copies binaries from' });
  }
  const files = [binary, ...parseLdd(lddOutput)];
  return Promise.all(files.map(async (path) => fileEntry(`${prefix}${path}`, await readFile(path), 0o755)));
}
