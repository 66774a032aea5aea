import { describe, expect, it } from 'vitest';
import {
  checkHostKey,
  entryMatchesHost,
  fingerprintSha256,
  hostKeyAlgorithmsFor,
  hostLookupName,
  keyTypeOfBlob,
  knownHostsLine,
  parseKnownHosts,
} from '../../src/hosts/known-hosts.js';

// Real keys from ssh-keygen; the fingerprints are what `ssh-keygen -lf` printed for them.
const ED = 'AAAAC3NzaC1lZDI1NTE5AAAAILyHlME2gcsLzkrBmag/fvqMZV4VzhSnByAALAb/PZNo';
const ED_FINGERPRINT = 'SHA256:n9K3+Mme64Z4P8CzxZnLpiO0m9VGjZv4dkoBZckZxsk';
const OTHER_ED = 'AAAAC3NzaC1lZDI1NTE5AAAAIJzRIsmxiNqq+XegnBfdXFRi5TFeG324DO7znv/6/icw';
const OTHER_ED_FINGERPRINT = 'SHA256:FElHXmrk8d/zlR1JnSIge81OXyYAlJngKOKqvKzoVdM';
const ECDSA = 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOrq5YgXsjMCUsu45fjj+F9S8tchFe2YE0ANEcZwpgnp8iT+uzIM0kGVf1+hLRTifncBSRa6pI1qyQtmLY8HRc8=';
const RSA =
  'AAAAB3NzaC1yc2EAAAADAQABAAABAQC7NakY5Zf/w76NdEPnpSSJdmNMxIrZp+C+qz0WoaygmIBsZWDfupk+AevJivCYSRJHhkNR5u2raBGhlY1rrZdQkf/MSu3kwYHdIAKl5vkmVrwE1lk1OUkjZcDTTaHjq/GYe5v/kA36hkUFjvJANTXQxaO0Kbvpw4jn0K6H6C41BhU/MAMteBHepN0YC+qqwzM1R4WhvArFmnHfcWZfwE68kvDRFZHQgaDDRwW+1+wLECOZi+/oiG/i4+RUcn79SCti9Y1x1we1akU4nqIirRnDIfIzgfyPShOjQm9llfW5HuxgzThJEjMSY7o6bsf0jc/b0vxG8Pirc43qx7Feo/9x';
const RSA_FINGERPRINT = 'SHA256:RUt0GBYrUKu2UQVBD74extSUTT9nQWHIaPu6rpJ8AFQ';
// `ssh-keygen -H` output for "[127.0.0.1]:2299 ssh-ed25519 <ED>".
const HASHED_2299 = `|1|XLhMRPvNwtwjz4oziZPUi05uQH8=|UkQ/aUEz6zC30rFkEBH3bp4EfMg= ssh-ed25519 ${ED}`;

const key = (b64: string) => Buffer.from(b64, 'base64');

describe('parseKnownHosts', () => {
  it('reads plain, bracketed and comma-separated host fields with their key type', () => {
    const entries = parseKnownHosts(`# comment\n\nvm1.example,10.0.0.1 ssh-ed25519 ${ED} root@vm1\n[127.0.0.1]:2201 ecdsa-sha2-nistp256 ${ECDSA}\n`);
    expect(entries.map((e) => ({ line: e.line, patterns: e.patterns, keyType: e.keyType }))).toEqual([
      { line: 3, patterns: ['vm1.example', '10.0.0.1'], keyType: 'ssh-ed25519' },
      { line: 4, patterns: ['[127.0.0.1]:2201'], keyType: 'ecdsa-sha2-nistp256' },
    ]);
  });

  it('reads hashed entries as salt and hash, with no plain patterns', () => {
    const [entry] = parseKnownHosts(HASHED_2299);
    expect(entry?.patterns).toEqual([]);
    expect(entry?.hashed?.salt.length).toBe(20);
    expect(entry?.hashed?.hash.length).toBe(20);
  });

  it('reads @revoked and @cert-authority markers and skips unknown ones', () => {
    const entries = parseKnownHosts(`@revoked * ssh-ed25519 ${ED}\n@cert-authority *.example ssh-ed25519 ${OTHER_ED}\n@bogus x ssh-ed25519 ${ED}`);
    expect(entries.map((e) => e.marker)).toEqual(['revoked', 'cert-authority']);
  });

  it.each([
    ['a missing key', 'host ssh-ed25519'],
    ['a key whose blob is of another type than the line says', `host ssh-rsa ${ED}`],
    ['a key that is not base64 of a key blob', 'host ssh-ed25519 !!!!'],
    ['a hashed field without its hash', `|1|abc ssh-ed25519 ${ED}`],
  ])('skips a line with %s', (_what, line) => {
    expect(parseKnownHosts(line)).toEqual([]);
  });
});

describe('hostLookupName', () => {
  it.each([
    ['vm1', 22, 'vm1'],
    ['127.0.0.1', 2201, '[127.0.0.1]:2201'],
    ['::1', 2222, '[::1]:2222'],
  ])('names %s port %i as %s', (host, port, name) => {
    expect(hostLookupName(host, port)).toBe(name);
  });
});

describe('entryMatchesHost', () => {
  const one = (line: string) => parseKnownHosts(line)[0]!;
  it.each([
    ['plain host on port 22', `vm1 ssh-ed25519 ${ED}`, 'vm1', 22, true],
    ['plain host, case-insensitive', `VM1 ssh-ed25519 ${ED}`, 'vm1', 22, true],
    ['plain host is not the same host on another port', `127.0.0.1 ssh-ed25519 ${ED}`, '127.0.0.1', 2201, false],
    ['bracketed port', `[127.0.0.1]:2201 ssh-ed25519 ${ED}`, '127.0.0.1', 2201, true],
    ['bracketed port, other port', `[127.0.0.1]:2201 ssh-ed25519 ${ED}`, '127.0.0.1', 2202, false],
    ['one of several patterns', `a,b,[127.0.0.1]:2201 ssh-ed25519 ${ED}`, '127.0.0.1', 2201, true],
    ['wildcard', `*.example ssh-ed25519 ${ED}`, 'vm1.example', 22, true],
    ['negation wins over a wildcard', `*.example,!vm2.example ssh-ed25519 ${ED}`, 'vm2.example', 22, false],
    ['hashed entry for its host and port', HASHED_2299, '127.0.0.1', 2299, true],
    ['hashed entry, other port', HASHED_2299, '127.0.0.1', 2298, false],
    ['hashed entry, other host', HASHED_2299, '127.0.0.2', 2299, false],
  ])('%s', (_what, line, host, port, expected) => {
    expect(entryMatchesHost(one(line), host, port)).toBe(expected);
  });
});

describe('checkHostKey', () => {
  const file = [`[127.0.0.1]:2201 ssh-ed25519 ${ED}`, HASHED_2299, `vm3 ssh-rsa ${RSA}`, `@revoked * ssh-ed25519 ${OTHER_ED}`, `[127.0.0.1]:2202 ssh-ed25519 ${ED}`].join('\n');
  const entries = parseKnownHosts(file);

  it('knows a recorded key for a bracketed host:port', () => {
    expect(checkHostKey(entries, '127.0.0.1', 2201, key(ED))).toMatchObject({ status: 'known', entry: { line: 1 } });
  });

  it('knows a recorded key behind a hashed host name', () => {
    expect(checkHostKey(entries, '127.0.0.1', 2299, key(ED))).toMatchObject({ status: 'known', entry: { line: 2 } });
  });

  it('knows an RSA key on port 22', () => {
    expect(checkHostKey(entries, 'vm3', 22, key(RSA))).toMatchObject({ status: 'known' });
  });

  it('calls a host with no entry unknown', () => {
    expect(checkHostKey(entries, '127.0.0.1', 2203, key(ED))).toEqual({ status: 'unknown' });
  });

  it('calls another key of the same type for a recorded host changed, with the lines on record', () => {
    const verdict = checkHostKey(entries, '127.0.0.1', 2201, key(ECDSA));
    expect(verdict.status).toBe('changed');
    expect(verdict.status === 'changed' && verdict.expected.map((e) => e.line)).toEqual([1]);
  });

  it('calls a key of another type than the recorded one changed', () => {
    expect(checkHostKey(entries, 'vm3', 22, key(ED)).status).toBe('changed');
  });

  it('refuses a revoked key even for a host that has no entry', () => {
    expect(checkHostKey(entries, 'anything', 22, key(OTHER_ED))).toMatchObject({ status: 'revoked', entry: { line: 4 } });
  });

  it('ignores @cert-authority lines when matching plain keys', () => {
    const ca = parseKnownHosts(`@cert-authority [127.0.0.1]:2201 ssh-ed25519 ${ED}`);
    expect(checkHostKey(ca, '127.0.0.1', 2201, key(ED))).toEqual({ status: 'unknown' });
  });
});

describe('fingerprintSha256', () => {
  it.each([
    ['ed25519', ED, ED_FINGERPRINT],
    ['another ed25519', OTHER_ED, OTHER_ED_FINGERPRINT],
    ['rsa', RSA, RSA_FINGERPRINT],
  ])('matches ssh-keygen -lf for an %s key', (_type, b64, expected) => {
    expect(fingerprintSha256(key(b64))).toBe(expected);
  });
});

describe('keyTypeOfBlob', () => {
  it.each([
    [ED, 'ssh-ed25519'],
    [ECDSA, 'ecdsa-sha2-nistp256'],
    [RSA, 'ssh-rsa'],
  ])('reads the type of %#', (b64, type) => {
    expect(keyTypeOfBlob(key(b64))).toBe(type);
  });

  it('returns undefined for a buffer too short to hold a type', () => {
    expect(keyTypeOfBlob(Buffer.from([0, 0, 0, 9, 1]))).toBeUndefined();
  });
});

describe('hostKeyAlgorithmsFor', () => {
  const entries = parseKnownHosts(`vm3 ssh-rsa ${RSA}\n[127.0.0.1]:2201 ecdsa-sha2-nistp256 ${ECDSA}`);
  it('asks first for the key types on record for the host', () => {
    expect(hostKeyAlgorithmsFor(entries, 'vm3', 22).slice(0, 4)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
    expect(hostKeyAlgorithmsFor(entries, '127.0.0.1', 2201)[0]).toBe('ecdsa-sha2-nistp256');
  });

  it('keeps the default order for a host with no entry, without duplicates', () => {
    const algorithms = hostKeyAlgorithmsFor(entries, 'new', 22);
    expect(algorithms[0]).toBe('ssh-ed25519');
    expect(new Set(algorithms).size).toBe(algorithms.length);
  });
});

describe('knownHostsLine', () => {
  it('writes a bracketed line that parses back to a known key', () => {
    const line = knownHostsLine('127.0.0.1', 2201, key(ED));
    expect(line).toBe(`[127.0.0.1]:2201 ssh-ed25519 ${ED}`);
    expect(checkHostKey(parseKnownHosts(line), '127.0.0.1', 2201, key(ED)).status).toBe('known');
  });

  it('writes a hashed line that matches only its own host and port', () => {
    const line = knownHostsLine('127.0.0.1', 2201, key(ED), { hash: true, salt: Buffer.alloc(20, 7) });
    expect(line.startsWith('|1|')).toBe(true);
    const parsed = parseKnownHosts(line);
    expect(checkHostKey(parsed, '127.0.0.1', 2201, key(ED)).status).toBe('known');
    expect(checkHostKey(parsed, '127.0.0.1', 2202, key(ED)).status).toBe('unknown');
  });
});
