// apt's source lists, read as apt reads them: deb822 stanzas (*.sources) and one-line entries
// (sources.list, *.list). Pure: text in, sources out. The sandbox takes its Debian mirror from
// them, so it debootstraps from whatever this machine already uses (a company mirror, a proxy, a
// snapshot) instead of a host written into gangway.

export interface AptSource {
  /** deb, deb-src. */
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  /** deb822 `Enabled: no` turns a stanza off. */
  enabled: boolean;
}

/**
 * deb822 (`/etc/apt/sources.list.d/*.sources`): stanzas separated by blank lines, `Field: value`
 * with continuation lines that start with a space or tab, `#` lines are comments. Field names are
 * case-insensitive; list fields are separated by whitespace.
 */
export function parseDeb822Sources(text: string): AptSource[] {
  const stanzas: Array<Map<string, string>> = [];
  let fields = new Map<string, string>();
  let last: string | undefined;
  const close = () => {
    if (fields.size > 0) stanzas.push(fields);
    fields = new Map();
    last = undefined;
  };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') { close(); continue; }
    if (line.startsWith('#')) continue;
    if (/^[ \t]/.test(line)) {
      if (last !== undefined) fields.set(last, `${fields.get(last) ?? ''} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    fields.set(last, line.slice(colon + 1).trim());
  }
  close();
  const list = (f: Map<string, string>, key: string) => (f.get(key) ?? '').split(/\s+/).filter(Boolean);
  return stanzas.map((f) => ({
    types: list(f, 'types'),
    uris: list(f, 'uris'),
    suites: list(f, 'suites'),
    components: list(f, 'components'),
    enabled: !/^(no|false|0)$/i.test(f.get('enabled') ?? 'yes'),
  }));
}

/**
 * One-line format (`/etc/apt/sources.list`, `*.list`): `deb [options] URI suite [component...]`,
 * where the options in brackets may hold spaces, and `#` starts a comment.
 */
export function parseOneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').replace(/\[[^\]]*\]/, ' ').trim();
    if (!line) continue;
    const [type, uri, suite, ...components] = line.split(/\s+/);
    if (!type || !uri || !suite || !/^deb(-src)?$/.test(type)) continue;
    out.push({ types: [type], uris: [uri], suites: [suite], components, enabled: true });
  }
  return out;
}

/** Schemes debootstrap can fetch from (apt's other methods, cdrom: or mirror+file:, it cannot). */
const DEBOOTSTRAP_URI = /^(https?|file):\/\//;

/** The first binary (deb) source that serves exactly this suite, as debootstrap wants its mirror. */
export function mirrorFor(sources: readonly AptSource[], suite: string): string | undefined {
  for (const s of sources) {
    if (!s.enabled || !s.types.includes('deb') || !s.suites.includes(suite)) continue;
    const uri = s.uris.find((u) => DEBOOTSTRAP_URI.test(u));
    if (uri) return uri.replace(/\/+$/, '');
  }
  return undefined;
}

/**
 * The Debian archive itself: the URI of the first binary source that serves a release (a suite
 * without a `-security`/`-updates` part). One archive serves every release, so a suite this
 * machine's apt does not list (trixie, on a bookworm machine) comes from the same place.
 */
export function archiveOf(sources: readonly AptSource[]): string | undefined {
  for (const s of sources) {
    if (!s.enabled || !s.types.includes('deb') || !s.suites.some((suite) => /^[a-z]+$/.test(suite))) continue;
    const uri = s.uris.find((u) => DEBOOTSTRAP_URI.test(u));
    if (uri) return uri.replace(/\/+$/, '');
  }
  return undefined;
}

/** Parses a file by its name: deb822 for *.sources, one-line otherwise. */
export function parseSourcesFile(name: string, text: string): AptSource[] {
  return name.endsWith('.sources') ? parseDeb822Sources(text) : parseOneLineSources(text);
}
