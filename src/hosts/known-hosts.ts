// OpenSSH known_hosts, as pure functions: parse the file, decide whether a presented host key
// is known, unknown or changed, and format the line that trusts it. No I/O here.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { matchesPatternList } from './host-patterns.js';

export interface KnownHostEntry {
  /** 1-based line in the file, for messages that point at the line to remove. */
  line: number;
  /** Plain patterns (`host`, `[host]:port`, wildcards, `!negated`), empty for a hashed entry. */
  patterns: string[];
  /** A hashed entry (`|1|salt|hash`): matched by HMAC-SHA1 of the host pattern. */
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  /** The key blob, as it travels in the SSH protocol. */
  key: Buffer;
  marker?: 'revoked' | 'cert-authority';
}

/** Parses known_hosts text; lines it cannot read are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const fields = trimmed.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0].slice(1) as KnownHostEntry['marker'];
      fields.shift();
    } else if (fields[0]?.startsWith('@')) {
      return;
    }
    const [hostField, keyType, keyBase64] = fields;
    if (!hostField || !keyType || !keyBase64) return;
    const key = Buffer.from(keyBase64, 'base64');
    if (key.length === 0 || keyTypeOfBlob(key) !== keyType) return;
    const entry: KnownHostEntry = { line: index + 1, patterns: [], keyType, key, ...(marker ? { marker } : {}) };
    if (hostField.startsWith('|1|')) {
      const [, , salt, hash] = hostField.split('|');
      if (!salt || !hash) return;
      entry.hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else {
      entry.patterns = hostField.split(',');
    }
    entries.push(entry);
  });
  return entries;
}

/** The name OpenSSH looks a host up by: `host` on port 22, `[host]:port` elsewhere. */
export function hostLookupName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Whether an entry names this host and port (negations win, as in OpenSSH). */
export function entryMatchesHost(entry: KnownHostEntry, host: string, port: number): boolean {
  const name = hostLookupName(host, port);
  if (entry.hashed) {
    const digest = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return digest.length === entry.hashed.hash.length && digest.equals(entry.hashed.hash);
  }
  return matchesPatternList(entry.patterns, name);
}

/** Reads the type string at the start of an SSH key blob ("ssh-ed25519", "ssh-rsa", ...). */
export function keyTypeOfBlob(key: Buffer): string | undefined {
  if (key.length < 4) return undefined;
  const length = key.readUInt32BE(0);
  if (length === 0 || length > 64 || key.length < 4 + length) return undefined;
  return key.subarray(4, 4 + length).toString('latin1');
}

/** `SHA256:<base64 without padding>`, the form `ssh-keygen -lf` and ssh's prompts show. */
export function fingerprintSha256(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'unknown' }
  | { status: 'changed'; expected: KnownHostEntry[] }
  | { status: 'revoked'; entry: KnownHostEntry };

/**
 * Decides what the presented key means for this host. A key of another type than the ones
 * on record counts as changed: we ask the server for the recorded types first (see
 * hostKeyAlgorithmsFor), so a server that no longer offers them is not the host we knew.
 */
export function checkHostKey(entries: KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const forHost = entries.filter((e) => e.marker === undefined && entryMatchesHost(e, host, port));
  const same = forHost.find((e) => e.key.equals(key));
  if (same) return { status: 'known', entry: same };
  if (forHost.length === 0) return { status: 'unknown' };
  return { status: 'changed', expected: forHost };
}

const ALGORITHMS_BY_KEY_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * Host key algorithms to offer, those of keys already recorded for the host first, so a server
 * with several host keys presents the one we can check (OpenSSH orders them the same way).
 */
export function hostKeyAlgorithmsFor(entries: KnownHostEntry[], host: string, port: number): string[] {
  const preferred = entries
    .filter((e) => e.marker === undefined && entryMatchesHost(e, host, port))
    .flatMap((e) => ALGORITHMS_BY_KEY_TYPE[e.keyType] ?? []);
  return [...new Set([...preferred, ...DEFAULT_HOST_KEY_ALGORITHMS])];
}

/** The line that trusts a key, with the host name hashed when asked (like HashKnownHosts). */
export function knownHostsLine(host: string, port: number, key: Buffer, opts: { hash?: boolean; salt?: Buffer } = {}): string {
  const keyType = keyTypeOfBlob(key) ?? 'unknown';
  const name = hostLookupName(host, port);
  let hostField = name;
  if (opts.hash) {
    const salt = opts.salt ?? randomBytes(20);
    hostField = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  }
  return `${hostField} ${keyType} ${key.toString('base64')}`;
}
