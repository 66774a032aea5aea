// OpenSSH host pattern lists (`*`, `?`, `!negated`), shared by known_hosts and ssh_config: one
// reading of the syntax for both files, so a pattern means the same thing in each.

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/**
 * Whether a name matches a pattern list: some plain pattern matches and no negated one does (a
 * matching negation rules the list out, whatever else matches). Case-insensitive, as OpenSSH.
 */
export function matchesPatternList(patterns: readonly string[], name: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    if (globToRegExp(negated ? pattern.slice(1) : pattern).test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}
