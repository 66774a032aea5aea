// Numeric versions (1, 1.2, 1.2.3, 1.2.3.4, each with an optional -pre.release part) and their
// order, semver-style. Not the semver package: floating tags have fewer than three parts.

export interface NumericVersion {
  numbers: number[];
  /** The part after the first '-', e.g. rc.1; undefined for a release. */
  prerelease?: string;
}

const NUMERIC_VERSION_RE = /^(0|[1-9]\d*)((?:\.(?:0|[1-9]\d*))*)(?:-([0-9A-Za-z][0-9A-Za-z.-]*))?$/;

export function parseNumericVersion(text: string): NumericVersion | undefined {
  const m = NUMERIC_VERSION_RE.exec(text);
  if (!m) return undefined;
  const numbers = [m[1]!, ...m[2]!.split('.').slice(1)].map(Number);
  if (numbers.some((n) => !Number.isSafeInteger(n))) return undefined;
  return m[3] === undefined ? { numbers } : { numbers, prerelease: m[3] };
}

function compareIdentifiers(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return Math.sign(Number(a) - Number(b));
  if (an !== bn) return an ? -1 : 1; // numeric identifiers sort before alphanumeric ones
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Negative when a < b. Missing numbers count as 0; a pre-release sorts before its release. */
export function compareNumericVersions(a: NumericVersion, b: NumericVersion): number {
  const len = Math.max(a.numbers.length, b.numbers.length);
  for (let i = 0; i < len; i++) {
    const d = (a.numbers[i] ?? 0) - (b.numbers[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (a.prerelease === b.prerelease) return 0;
  if (a.prerelease === undefined) return 1;
  if (b.prerelease === undefined) return -1;
  const ap = a.prerelease.split('.');
  const bp = b.prerelease.split('.');
  for (let i = 0; i < Math.max(ap.length, bp.length); i++) {
    if (ap[i] === undefined) return -1;
    if (bp[i] === undefined) return 1;
    const d = compareIdentifiers(ap[i]!, bp[i]!);
    if (d !== 0) return d;
  }
  return 0;
}

export function formatNumericVersion(v: NumericVersion): string {
  return `${v.numbers.join('.')}${v.prerelease === undefined ? '' : `-${v.prerelease}`}`;
}
