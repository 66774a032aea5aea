// The push plan, pure: given the refs a release wants and what the registry already holds,
// decide per ref whether to push it, leave it (floating tag already ahead) or refuse.
import { compareNumericVersions, formatNumericVersion, parseNumericVersion, type NumericVersion } from './version-order.js';
import type { AliasScope, ReleaseTarget } from './tags.js';

/** What one repository on a registry holds today. */
export interface RepositoryState {
  tags: string[];
  /**
   * Image config digest behind a tag, for the version tags the release wants (the same image
   * pushed twice has the same config digest; the manifest digest can differ between engines).
   * undefined when the tag exists but its image could not be identified (e.g. a manifest list).
   */
  configDigests: Record<string, string | undefined>;
}

export type PushAction =
  | 'push'   // tag and push
  | 'skip'   // the version tag already holds this very image
  | 'hold'   // a floating tag already points at a newer release: left where it is
  | 'refuse';// the version tag holds another image: refused without --force

export interface PushDecision {
  target: ReleaseTarget;
  action: PushAction;
  /** Why, for the output ("1 stays: 1.3.0 is newer than 1.2.4"). */
  reason?: string;
  /** The newest existing release the floating tag follows, when there is one. */
  newestExisting?: string;
}

export interface PushPlanInput {
  targets: ReleaseTarget[];
  version: string;
  /** By repository (registry/repository). */
  remote: Record<string, RepositoryState>;
  /** Config digest (image id) of each source image, by source ref. */
  sourceDigests: Record<string, string>;
  force?: boolean;
  prereleaseMovesAliases?: boolean;
}

export interface PushPlan {
  decisions: PushDecision[];
  refused: PushDecision[];
}

/** The tag's version when the tag is a release in the alias's scope, else undefined. */
export function versionInScope(tag: string, scope: AliasScope, allowPrerelease: boolean): NumericVersion | undefined {
  let text = tag;
  if (scope.suffix) {
    if (!tag.endsWith(`-${scope.suffix}`)) return undefined;
    text = tag.slice(0, -(scope.suffix.length + 1));
  }
  const v = parseNumericVersion(text);
  if (!v || v.numbers.length !== scope.parts) return undefined;
  if (v.prerelease !== undefined && !allowPrerelease) return undefined;
  return scope.prefix.every((n, i) => v.numbers[i] === n) ? v : undefined;
}

/** The newest release among existing tags that a floating tag with this scope follows. */
export function newestInScope(tags: readonly string[], scope: AliasScope, allowPrerelease: boolean): NumericVersion | undefined {
  let newest: NumericVersion | undefined;
  for (const tag of tags) {
    const v = versionInScope(tag, scope, allowPrerelease);
    if (v && (!newest || compareNumericVersions(v, newest) > 0)) newest = v;
  }
  return newest;
}

export function planPushes(input: PushPlanInput): PushPlan {
  const { version, force = false, prereleaseMovesAliases = false } = input;
  const released = parseNumericVersion(version);
  const decisions = input.targets.map((target): PushDecision => {
    const remote = input.remote[target.repository] ?? { tags: [], configDigests: {} };
    if (target.kind === 'version') {
      if (!remote.tags.includes(target.tag)) return { target, action: 'push' };
      const existing = remote.configDigests[target.tag];
      const local = input.sourceDigests[target.source];
      if (existing !== undefined && existing === local) return { target, action: 'skip', reason: `${target.ref} already holds this image` };
      const what = existing === undefined ? 'an image that could not be compared' : `another image (${shortDigest(existing)})`;
      return force
        ? { target, action: 'push', reason: `overwriting ${target.ref}, which held ${what} (--force)` }
        : { target, action: 'refuse', reason: `${target.ref} already exists and holds ${what}` };
    }
    // A floating tag of an unordered version (a commit) simply moves: there is no "backwards".
    if (!target.scope || !released) return { target, action: 'push' };
    const newest = newestInScope(remote.tags, target.scope, prereleaseMovesAliases);
    if (!newest || compareNumericVersions(released, newest) >= 0) return { target, action: 'push' };
    const newestText = formatNumericVersion(newest);
    if (force) return { target, action: 'push', newestExisting: newestText, reason: `moving ${target.ref} back from ${newestText} to ${version} (--force)` };
    return { target, action: 'hold', newestExisting: newestText, reason: `${target.ref} stays: ${newestText} is newer than ${version} (--force to move it)` };
  });
  return { decisions, refused: decisions.filter((d) => d.action === 'refuse') };
}

export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}
