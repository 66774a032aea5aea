// Tag rules, pure: which refs a release of one version lands on (docker-ci-deploy's rules as the
// baseline, see docs/release.md for what was kept and what was fixed).
import { usageError } from '../errors.js';
import { DOCKER_TAG_RE, formatImageRef, parseImageRef, registryOf, repositoryName, withRegistry, type ImageRef } from '../registry/reference.js';
import { parseNumericVersion } from './version-order.js';

export interface TagRuleInput {
  version: string;
  /** Also tag the shorter numeric versions (1.2.3 -> 1.2, 1). */
  semver?: boolean;
  /** Also tag latest (or the bare suffix when there is one). */
  latest?: boolean;
  /** Keep at least this many numeric parts (default 1). */
  precision?: number;
  /** Tag a zero major on its own (0.6.11 -> 0). */
  zero?: boolean;
  /** --tag: appended to every version tag as -<suffix>. */
  suffix?: string;
  /** Images to release; an untagged image's source is <image>:<version>. */
  images: string[];
  /** Retarget every image to each of these registries; empty = the image's own registry. */
  registries?: string[];
  /** docker-ci-deploy's behaviour: a pre-release moves the floating tags of its release. */
  prereleaseMovesAliases?: boolean;
}

/**
 * Which released versions a floating tag follows: those with this numeric prefix, this many
 * numeric parts and this suffix. `latest` has an empty prefix.
 */
export interface AliasScope {
  prefix: number[];
  parts: number;
  suffix: string;
}

export interface VersionTag {
  tag: string;
  /** version: names exactly this release; alias: a floating tag that moves with new releases. */
  kind: 'version' | 'alias';
  /** Set on aliases of numeric versions; undefined when the version has no order (a commit). */
  scope?: AliasScope;
}

export interface ReleaseTarget extends VersionTag {
  /** The local image the target is tagged from. */
  source: string;
  /** registry host[:port] ('docker.io' for the Hub). */
  registry: string;
  /** registry/repository without a tag. */
  repository: string;
  /** repository:tag */
  ref: string;
}

export interface VersionTagsResult {
  tags: VersionTag[];
  /** Why some tags were left out (shown to the user). */
  notes: string[];
}

/** The suffix with any leading version of this release stripped (1.2-foo -> foo); '' for none. */
export function stripVersionPrefix(suffix: string | undefined, version: string): string {
  if (suffix === undefined || suffix === '' || suffix === 'latest') return '';
  const parsed = parseNumericVersion(version);
  const candidates = [version];
  if (parsed) for (let k = parsed.numbers.length; k >= 1; k--) candidates.push(parsed.numbers.slice(0, k).join('.'));
  for (const v of candidates) {
    if (suffix === v) return '';
    if (suffix.startsWith(`${v}-`)) return suffix.slice(v.length + 1);
  }
  return suffix;
}

export function versionTags(input: Omit<TagRuleInput, 'images' | 'registries'>): VersionTagsResult {
  const { version, semver = false, latest = false, zero = false, prereleaseMovesAliases = false } = input;
  const precision = input.precision ?? 1;
  const notes: string[] = [];
  if (!DOCKER_TAG_RE.test(version)) throw usageError(`version "${version}" is not a valid Docker tag`, { hint: 'use letters, digits, "_", "." and "-", at most 128 characters, not starting with "." or "-"' });
  if (!Number.isInteger(precision) || precision < 1) throw usageError(`--precision must be a whole number >= 1, got ${input.precision}`);
  const suffix = stripVersionPrefix(input.suffix, version);
  const withSuffix = (v: string) => (suffix ? `${v}-${suffix}` : v);
  const parsed = parseNumericVersion(version);

  const tags: VersionTag[] = [{ tag: withSuffix(version), kind: 'version' }];
  let floating = true;
  if (parsed?.prerelease !== undefined && !prereleaseMovesAliases && (semver || latest)) {
    floating = false;
    notes.push(`${version} is a pre-release: floating tags are not moved (--prerelease-moves-aliases to move them)`);
  }

  if (semver && floating) {
    if (!parsed) throw usageError(`--semver needs a numeric version such as 1.2.3, got "${version}"`);
    const n = parsed.numbers.length;
    if (precision > n) throw usageError(`--precision ${precision} is more than the ${n} part(s) of version ${version}`);
    // Aliases are the shorter numeric prefixes only: the full numbers of a pre-release (1.2.3 of
    // 1.2.3-rc.1) name a release that has not happened yet, so they are never tagged from it.
    const lengths: number[] = [];
    for (let k = n - 1; k >= precision; k--) lengths.push(k);
    if (!zero && lengths.at(-1) === 1 && parsed.numbers[0] === 0) {
      lengths.pop();
      notes.push('major version 0 is not tagged alone (--zero to tag it)');
    }
    for (const k of lengths) {
      const prefix = parsed.numbers.slice(0, k);
      tags.push({ tag: withSuffix(prefix.join('.')), kind: 'alias', scope: { prefix, parts: n, suffix } });
    }
  } else if (!semver && input.precision !== undefined && parsed && input.precision > parsed.numbers.length) {
    throw usageError(`--precision ${precision} is more than the ${parsed.numbers.length} part(s) of version ${version}`);
  }

  if (latest && floating) {
    const scope = parsed ? { prefix: [], parts: parsed.numbers.length, suffix } : undefined;
    tags.push({ tag: suffix || 'latest', kind: 'alias', ...(scope ? { scope } : {}) });
  }

  for (const t of tags) {
    if (!DOCKER_TAG_RE.test(t.tag)) throw usageError(`tag "${t.tag}" is not a valid Docker tag`, { hint: 'shorten the version or the --tag suffix (128 characters at most)' });
  }
  return { tags, notes };
}

export interface ReleaseTargetsResult {
  targets: ReleaseTarget[];
  notes: string[];
}

/** Every ref a release lands on, in push order: per image, per registry, the version tag first. */
export function releaseTargets(input: TagRuleInput): ReleaseTargetsResult {
  if (input.images.length === 0) throw usageError('no image to release', { hint: 'set image: in gangway.yml or pass --image' });
  const { tags, notes } = versionTags(input);
  const targets: ReleaseTarget[] = [];
  const seen = new Set<string>();
  for (const imageText of input.images) {
    const image = parseImageRef(imageText);
    const source = sourceRef(image, input.version);
    const bases: ImageRef[] = input.registries?.length ? input.registries.map((r) => withRegistry(image, r)) : [image];
    for (const base of bases) {
      const repository = repositoryName(base);
      for (const t of tags) {
        const ref = `${repository}:${t.tag}`;
        if (seen.has(ref)) continue;
        seen.add(ref);
        targets.push({ ...t, source, registry: registryOf(base), repository, ref });
      }
    }
  }
  return { targets, notes };
}

/** The local image a release tags from: the image as given when it names a tag or digest. */
export function sourceRef(image: ImageRef, version: string): string {
  return image.tag || image.digest ? formatImageRef(image) : formatImageRef({ ...image, tag: version });
}
