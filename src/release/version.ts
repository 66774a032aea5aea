// The version a build or release is named: --version, else $GANGWAY_VERSION, else the git
// commit of the working tree, with a distinct suffix when the tree has uncommitted changes.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { usageError } from '../errors.js';
import { DOCKER_TAG_RE } from '../registry/reference.js';

const run = promisify(execFile);

export interface GitState {
  /** Full 40-hex commit of HEAD. */
  commit: string;
  /** sha256 (hex) of the uncommitted changes; undefined when the tree is clean. */
  dirtyFingerprint?: string;
}

export type VersionSource = 'flag' | 'env' | 'git';

export interface ResolvedVersion {
  version: string;
  source: VersionSource;
  /** The commit of HEAD when the working directory is a git checkout (for the revision label). */
  commit?: string;
  dirty?: boolean;
}

/** Length of the diff hash in a dirty version: enough to tell edits apart, short enough to read. */
export const DIRTY_HASH_LENGTH = 12;

export function assertValidVersion(version: string, from: string): string {
  if (!DOCKER_TAG_RE.test(version)) {
    throw usageError(`version "${version}" (from ${from}) is not a valid Docker tag`, {
      hint: 'a version is 1 to 128 of A-Z a-z 0-9 _ . - and starts with a letter, digit or _',
    });
  }
  return version;
}

/** <commit> for a clean tree, <commit>-dirty-<12 hex of the diff hash> otherwise. */
export function versionFromGit(state: GitState): string {
  return state.dirtyFingerprint ? `${state.commit}-dirty-${state.dirtyFingerprint.slice(0, DIRTY_HASH_LENGTH)}` : state.commit;
}

/** Pure choice among the three sources; git is consulted only when the others are absent. */
export function chooseVersion(flag: string | undefined, envVersion: string | undefined, git: GitState | undefined): ResolvedVersion {
  const commit = git ? { commit: git.commit, dirty: git.dirtyFingerprint !== undefined } : {};
  if (flag !== undefined) return { version: assertValidVersion(flag, '--version'), source: 'flag', ...commit };
  if (envVersion !== undefined && envVersion !== '') return { version: assertValidVersion(envVersion, '$GANGWAY_VERSION'), source: 'env', ...commit };
  if (!git) {
    throw usageError('no version: pass --version, set $GANGWAY_VERSION, or run inside a git checkout with at least one commit');
  }
  return { version: versionFromGit(git), source: 'git', ...commit };
}

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' });
  return stdout.toString('utf8');
}

/**
 * HEAD and a fingerprint of everything that differs from it: tracked changes (staged or not) and
 * untracked files that are not ignored. Same edits, same fingerprint; any other edit, another one.
 */
export async function readGitState(cwd: string): Promise<GitState | undefined> {
  let commit: string;
  try {
    commit = (await git(cwd, ['rev-parse', '--verify', '-q', 'HEAD'])).trim();
  } catch {
    return undefined; // not a checkout, no commit yet, or no git
  }
  if (!/^[0-9a-f]{40,64}$/.test(commit)) return undefined;
  const status = await git(cwd, ['status', '--porcelain', '--untracked-files=all']);
  if (status.trim() === '') return { commit };
  const hash = createHash('sha256');
  hash.update(await git(cwd, ['diff', 'HEAD', '--binary', '--no-color', '--no-ext-diff']));
  const top = (await git(cwd, ['rev-parse', '--show-toplevel'])).trim();
  const untracked = (await git(cwd, ['ls-files', '--others', '--exclude-standard', '-z', '--full-name', ':/'])).split('\0').filter(Boolean).sort();
  for (const name of untracked) {
    hash.update(`\0untracked\0${name}\0`);
    try {
      hash.update(await readFile(join(top, name)));
    } catch {
      // Vanished or unreadable between listing and reading: its name still counts.
    }
  }
  return { commit, dirtyFingerprint: hash.digest('hex') };
}

export async function resolveVersion(opts: { flag?: string; env: NodeJS.ProcessEnv; cwd: string }): Promise<ResolvedVersion> {
  return chooseVersion(opts.flag, opts.env.GANGWAY_VERSION, await readGitState(opts.cwd));
}
