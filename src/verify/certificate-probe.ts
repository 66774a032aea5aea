// How a certificate check looks: gangway makes the TLS handshake itself, through the host's SSH
// connection (a forwarded TCP stream to address:port as seen from the host, then node's TLS over
// it, with the check's name as SNI). Nothing is needed on the host, no key material is read, and
// the chain is judged against the runner's roots (node's defaults plus an optional ca_file).
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { checkServerIdentity, connect, rootCertificates, type PeerCertificate } from 'node:tls';
import type { CertificateFacts, CertificateSpec } from '../checks/resources/certificate.js';
import { messageOf } from '../errors.js';
import type { Host } from '../hosts/host.js';

export type CertificateTarget = Pick<CertificateSpec, 'certificate' | 'address' | 'port' | 'timeout'>;

/** The names a certificate carries: its CN, then its DNS and IP subjectAltNames, each once. */
export function certificateNames(x: Pick<X509Certificate, 'subject' | 'subjectAltName'>): string[] {
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x.subject)?.[1];
  const sans = (x.subjectAltName ?? '').split(/,\s*/).map((s) => /^(?:DNS|IP Address):(.+)$/.exec(s.trim())?.[1]).filter((s): s is string => !!s);
  return [...new Set([...(cn ? [cn] : []), ...sans])];
}

const oneLine = (dn: string) => dn.split('\n').filter(Boolean).join(', ');
const isoOf = (openssl: string) => { const t = Date.parse(openssl); return Number.isFinite(t) ? new Date(t).toISOString() : openssl; };

/**
 * The facts of one served certificate. Pure: the chain verdict comes from the handshake (OpenSSL's
 * with the roots given), the name verdict from node's own rule (checkServerIdentity: wildcards,
 * SANs before CN).
 */
export function factsOfCertificate(servername: string, peer: PeerCertificate, chain: { ok: boolean; error?: string }, observedAt: Date): CertificateFacts {
  const x = new X509Certificate(peer.raw);
  const nameError = checkServerIdentity(servername, peer);
  return {
    connected: true,
    observedAt: observedAt.toISOString(),
    names: certificateNames(x),
    subject: oneLine(x.subject),
    issuer: oneLine(x.issuer),
    serial: x.serialNumber,
    notBefore: isoOf(x.validFrom),
    notAfter: isoOf(x.validTo),
    chainOk: chain.ok,
    ...(chain.ok ? {} : { chainError: chain.error ?? 'not trusted' }),
    nameOk: !nameError,
    ...(nameError ? { nameError: nameError.message } : {}),
  };
}

/** The roots a check trusts: undefined (node's defaults) or the defaults plus the ca_file's PEMs. */
export async function trustedRoots(caFile: string | undefined, cwd = process.cwd()): Promise<string[] | undefined> {
  if (!caFile) return undefined;
  let pem: string;
  try {
    pem = await readFile(resolve(cwd, caFile), 'utf8');
  } catch (err) {
    throw new Error(`cannot read ca_file ${caFile} (${(err as NodeJS.ErrnoException).code ?? messageOf(err)})`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`ca_file ${caFile} holds no PEM certificate`);
  return [...rootCertificates, pem];
}

/** OpenSSL's verify codes as node reports them, said in words for the commonest. */
const CHAIN_WORDS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its issuer is not a trusted root, or the chain is incomplete',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'an issuer in the chain is not a trusted root',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'the chain ends in an untrusted self-signed root',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not yet valid',
};

function chainReason(code: string): string {
  const words = CHAIN_WORDS[code];
  return words ? `${code}: ${words}` : code;
}

/** OpenSSL's message is a colon-separated dump; its `reason` and `code` say the same in a line. */
function tlsReason(err: Error & { reason?: unknown; code?: unknown }): string {
  if (typeof err.reason === 'string') return `${err.reason}${typeof err.code === 'string' ? ` (${err.code})` : ''}`;
  return messageOf(err).trim();
}

/** TLS over a stream already open to the port: the facts, or why no certificate was seen. */
function handshake(stream: Duplex, target: CertificateTarget, ca: string[] | undefined, now: () => Date): Promise<CertificateFacts> {
  return new Promise((done) => {
    const where = `${target.address}:${target.port}`;
    // The name is judged on its own (factsOfCertificate): without this, a name mismatch would
    // hide in authorizationError and the chain's verdict would be lost.
    const socket = connect({ socket: stream, servername: target.certificate, rejectUnauthorized: false, checkServerIdentity: () => undefined, ...(ca ? { ca } : {}) });
    let finished = false;
    const finish = (facts: CertificateFacts) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      stream.destroy();
      done(facts);
    };
    const timer = setTimeout(() => finish({ connected: false, observedAt: now().toISOString(), error: `no TLS handshake with ${where} within ${target.timeout} ms` }), target.timeout);
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate(true);
      if (!peer?.raw) return finish({ connected: false, observedAt: now().toISOString(), error: `${where} completed a handshake without a certificate` });
      const why = socket.authorizationError;
      finish(factsOfCertificate(target.certificate, peer, { ok: socket.authorized, ...(why ? { error: chainReason(typeof why === 'string' ? why : (why as Error & { code?: string }).code ?? messageOf(why)) } : {}) }, now()));
    });
    // `on`, not `once`: a second error after finishing (the stream and TLS both report a reset)
    // must not become an uncaught exception; the first one is the reason given.
    const failed = (err: Error) => finish({ connected: false, observedAt: now().toISOString(), error: `TLS handshake with ${where} failed: ${tlsReason(err)}` });
    socket.on('error', failed);
    stream.on('error', failed);
  });
}

/**
 * One certificate as served on the host. Never throws for the host's side (refused, reset, a
 * handshake error become facts with `connected: false`); `roots` come from trustedRoots.
 */
export async function observeCertificate(host: Host, target: CertificateTarget, roots: string[] | undefined, now: () => Date = () => new Date()): Promise<CertificateFacts> {
  const where = `${target.address}:${target.port}`;
  let stream: Duplex;
  try {
    stream = await withinTimeout(host.openTcp(target.address, target.port), target.timeout, `no connection within ${target.timeout} ms`);
  } catch (err) {
    return { connected: false, observedAt: now().toISOString(), error: `cannot connect to ${where} from ${host.name}: ${messageOf(err)}` };
  }
  return handshake(stream, target, roots, now);
}

/** A forward to a filtered address can hang for minutes in the host's connect(); a late stream is closed. */
function withinTimeout(opening: Promise<Duplex>, ms: number, message: string): Promise<Duplex> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => { reject(new Error(message)); opening.then((s) => s.destroy(), () => {}); }, ms); });
  return Promise.race([opening, late]).finally(() => clearTimeout(timer));
}
