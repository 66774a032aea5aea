// The sandbox's Debian mirror comes from this machine's apt sources (or GANGWAY_DEBIAN_MIRROR, or
// the sandbox option), never from a host written into gangway. Placeholder hosts only.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { archiveOf, mirrorFor, parseDeb822Sources, parseOneLineSources, parseSourcesFile } from '../../src/sandbox/apt-sources.js';
import { chooseDebianMirror, readAptSources, resolveDebianMirror } from '../../src/sandbox/debian-mirror.js';
import { GangwayError } from '../../src/errors.js';

const DEB822 = `# Installed by the image
Types: deb
# http://archive.example.org/debian/20250520T000000Z
URIs: http://mirror.example.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security.example.org/debian-security
Suites: bookworm-security
Components: main
`;

describe('deb822 (*.sources)', () => {
  it('reads stanzas, lists, comments', () => {
    expect(parseDeb822Sources(DEB822)).toEqual([
      { types: ['deb'], uris: ['http://mirror.example.org/debian'], suites: ['bookworm', 'bookworm-updates'], components: ['main'], enabled: true },
      { types: ['deb'], uris: ['http://security.example.org/debian-security'], suites: ['bookworm-security'], components: ['main'], enabled: true },
    ]);
  });

  it('takes the stanza whose Suites has the release itself, not -security or -updates', () => {
    expect(mirrorFor(parseDeb822Sources(DEB822), 'bookworm')).toBe('http://mirror.example.org/debian');
    expect(mirrorFor(parseDeb822Sources(DEB822), 'bookworm-security')).toBe('http://security.example.org/debian-security');
    expect(mirrorFor(parseDeb822Sources(DEB822), 'trixie')).toBeUndefined();
  });

  it('skips deb-src only and disabled stanzas; reads continuation lines and field names in any case', () => {
    const text = [
      'Types: deb-src', 'URIs: http://src.example.org/debian', 'Suites: bookworm', '',
      'Types: deb', 'URIs: http://off.example.org/debian', 'Suites: bookworm', 'Enabled: no', '',
      'types: deb deb-src', 'uris: cdrom:[Debian]/', ' https://mirror.example.net/debian/', 'suites: bookworm', 'components: main contrib', '',
    ].join('\n');
    expect(mirrorFor(parseDeb822Sources(text), 'bookworm')).toBe('https://mirror.example.net/debian');
  });

  it('CRLF line ends and a file without a final newline', () => {
    expect(mirrorFor(parseDeb822Sources('Types: deb\r\nURIs: http://mirror.example.org/debian\r\nSuites: bookworm\r\nComponents: main'), 'bookworm')).toBe('http://mirror.example.org/debian');
  });
});

describe('one-line (sources.list, *.list)', () => {
  it('reads deb lines with options in brackets and comments', () => {
    const text = [
      '# deb http://old.example.org/debian bookworm main',
      'deb-src http://src.example.org/debian bookworm main',
      'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example.org/debian/ bookworm main contrib # the main one',
      'deb http://security.example.org/debian-security bookworm-security main',
    ].join('\n');
    expect(parseOneLineSources(text)[1]).toEqual({ types: ['deb'], uris: ['http://mirror.example.org/debian/'], suites: ['bookworm'], components: ['main', 'contrib'], enabled: true });
    expect(mirrorFor(parseOneLineSources(text), 'bookworm')).toBe('http://mirror.example.org/debian');
  });

  it('a company proxy, a local file mirror; nothing for another distribution\'s suite', () => {
    expect(mirrorFor(parseOneLineSources('deb http://proxy.corp.example:3142/debian bookworm main\n'), 'bookworm')).toBe('http://proxy.corp.example:3142/debian');
    expect(mirrorFor(parseOneLineSources('deb file:///srv/mirror/debian bookworm main\n'), 'bookworm')).toBe('file:///srv/mirror/debian');
    expect(mirrorFor(parseOneLineSources('deb http://archive.example.org/ubuntu jammy main\n'), 'bookworm')).toBeUndefined();
  });

  it('the format is chosen by the file name', () => {
    expect(parseSourcesFile('/etc/apt/sources.list.d/debian.sources', DEB822)).toHaveLength(2);
    expect(parseSourcesFile('/etc/apt/sources.list', 'deb http://mirror.example.org/debian bookworm main\n')).toHaveLength(1);
  });
});

describe('choosing the mirror', () => {
  const files = [
    { path: '/etc/apt/sources.list', text: '# moved to sources.list.d\n' },
    { path: '/etc/apt/sources.list.d/debian.sources', text: DEB822 },
  ];

  it('from the first apt file that has the suite, saying which', () => {
    expect(chooseDebianMirror({ suite: 'bookworm', env: {}, files })).toEqual({ mirror: 'http://mirror.example.org/debian', from: '/etc/apt/sources.list.d/debian.sources' });
  });

  it('GANGWAY_DEBIAN_MIRROR over the apt files, the sandbox option over both', () => {
    const env = { GANGWAY_DEBIAN_MIRROR: 'http://env.example.org/debian/' };
    expect(chooseDebianMirror({ suite: 'bookworm', env, files })).toEqual({ mirror: 'http://env.example.org/debian', from: 'GANGWAY_DEBIAN_MIRROR' });
    expect(chooseDebianMirror({ suite: 'bookworm', option: 'https://opt.example.org/debian', env, files })).toEqual({ mirror: 'https://opt.example.org/debian', from: 'the sandbox option debianMirror' });
  });

  it('a setting that is not a URL is an error naming the setting', () => {
    expect(chooseDebianMirror({ suite: 'bookworm', env: { GANGWAY_DEBIAN_MIRROR: 'mirror.example.org' }, files })).toEqual({
      error: 'GANGWAY_DEBIAN_MIRROR: expected an http://, https:// or file:// URL of a Debian mirror, got "mirror.example.org"',
    });
  });

  it('a suite apt does not list (trixie on bookworm) comes from the archive that serves its release, never from -security', () => {
    expect(archiveOf(parseDeb822Sources(DEB822))).toBe('http://mirror.example.org/debian');
    expect(chooseDebianMirror({ suite: 'trixie', env: {}, files })).toEqual({ mirror: 'http://mirror.example.org/debian', from: '/etc/apt/sources.list.d/debian.sources (the Debian archive it names)' });
    // An exact match in a later file still wins over the archive of an earlier one.
    const exact = { path: '/etc/apt/sources.list.d/trixie.list', text: 'deb http://trixie.example.org/debian trixie main\n' };
    expect(chooseDebianMirror({ suite: 'trixie', env: {}, files: [...files, exact] })).toEqual({ mirror: 'http://trixie.example.org/debian', from: exact.path });
  });

  it('none for the suite: an error naming the files read', () => {
    const securityOnly = [{ path: '/etc/apt/sources.list', text: 'deb http://security.example.org/debian-security bookworm-security main\n' }];
    expect(chooseDebianMirror({ suite: 'trixie', env: {}, files: securityOnly })).toEqual({
      error: 'no Debian mirror for trixie in this machine\'s apt sources (read /etc/apt/sources.list)',
    });
    expect(chooseDebianMirror({ suite: 'bookworm', env: {}, files: [] })).toEqual({
      error: 'no Debian mirror for bookworm in this machine\'s apt sources (found none of sources.list, sources.list.d/*.list, sources.list.d/*.sources)',
    });
  });
});

describe('reading an apt directory', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  async function aptDir(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'gangway-apt-'));
    dirs.push(dir);
    await mkdir(join(dir, 'sources.list.d'));
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return dir;
  }

  it('sources.list first, then sources.list.d/*.list and *.sources by name; other files ignored', async () => {
    const dir = await aptDir({
      'sources.list': '',
      'sources.list.d/b.sources': DEB822,
      'sources.list.d/a.list': 'deb http://first.example.org/debian bookworm main\n',
      'sources.list.d/c.list.disabled': 'deb http://never.example.org/debian bookworm main\n',
    });
    expect((await readAptSources(dir)).map((f) => f.path)).toEqual([join(dir, 'sources.list'), join(dir, 'sources.list.d/a.list'), join(dir, 'sources.list.d/b.sources')]);
    expect(await resolveDebianMirror({ suite: 'bookworm', env: {}, aptDir: dir })).toEqual({ mirror: 'http://first.example.org/debian', from: join(dir, 'sources.list.d/a.list') });
  });

  it('no mirror for the suite: an operation error naming the files and the variable to set', async () => {
    const dir = await aptDir({ 'sources.list.d/debian.sources': DEB822.replace(/^Suites: bookworm bookworm-updates$/m, 'Suites: bookworm-updates') });
    const err = await resolveDebianMirror({ suite: 'trixie', env: {}, aptDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GangwayError);
    expect((err as GangwayError).message).toBe(`no Debian mirror for trixie in this machine's apt sources (read ${join(dir, 'sources.list.d/debian.sources')})`);
    expect((err as GangwayError).hint).toContain('GANGWAY_DEBIAN_MIRROR');
  });

  it('a bad GANGWAY_DEBIAN_MIRROR is a usage error (exit 2), and no file is read for it', async () => {
    const err = await resolveDebianMirror({ suite: 'bookworm', env: { GANGWAY_DEBIAN_MIRROR: 'not a url' }, aptDir: '/nonexistent' }).catch((e: unknown) => e);
    expect((err as GangwayError).code).toBe('usage');
  });
});
