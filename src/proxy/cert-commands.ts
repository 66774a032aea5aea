// Runtime-API lines that put certificates into a running HAProxy (pure): a new name is `new ssl
// cert`, `set ssl cert` (the PEM as the command's payload), `commit ssl cert`, `add ssl crt-list`;
// a renewal is set + commit. No reload, so no connection is touched. Payloads travel over the
// admin socket, never in a command line; HAProxy ends a payload at its first empty line, so a PEM
// is sent without blank lines.
import { X509Certificate } from 'node:crypto';
import { shellQuote, type ShellCommand } from '../state/shell.js';
import { certsHostDir } from './cert-files.js';
import { containerCertPath, containerCrtListPath, PROXY_HOST_DIR } from './paths.js';

/** One line of the admin socket with an optional payload (`<line> <<` then the payload, then an empty line). */
export interface PayloadCommand {
  line: string;
  payload?: string;
  /** Text a successful reply contains. */
  success: string;
}

/** The certificate chain and key as one file, without blank lines (a payload ends at the first). */
export function combinedPem(certificatePem: string, privateKeyPem: string): string {
  const clean = (pem: string) => pem.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '').join('\n');
  return `${clean(certificatePem)}\n${clean(privateKeyPem)}\n`;
}

/**
 * The leaf's SHA-1 fingerprint as `show ssl cert <path>` prints it (hex, upper case, no colons),
 * or a clear error naming the secret when it is not a certificate. Never echoes the PEM.
 */
export function leafFingerprint(certificatePem: string, secretName: string): string {
  try {
    return new X509Certificate(certificatePem).fingerprint.replaceAll(':', '').toUpperCase();
  } catch {
    throw new Error(`secret ${secretName} does not hold a PEM certificate`);
  }
}

export const showCerts = (): PayloadCommand => ({ line: 'show ssl cert', success: '# filename' });
export const showCert = (name: string): PayloadCommand => ({ line: `show ssl cert ${containerCertPath(name)}`, success: 'Filename:' });
export const newCert = (name: string): PayloadCommand => ({ line: `new ssl cert ${containerCertPath(name)}`, success: 'New empty certificate store' });
export const setCert = (name: string, pem: string): PayloadCommand => ({ line: `set ssl cert ${containerCertPath(name)}`, payload: pem, success: 'Transaction' });
export const commitCert = (name: string): PayloadCommand => ({ line: `commit ssl cert ${containerCertPath(name)}`, success: 'Success!' });
export const showCrtList = (): PayloadCommand => ({ line: `show ssl crt-list ${containerCrtListPath}`, success: '# ' });
export const addCrtListEntry = (name: string): PayloadCommand => ({ line: `add ssl crt-list ${containerCrtListPath}`, payload: `${containerCertPath(name)} ${name}\n`, success: 'Success!' });
export const delCrtListEntry = (name: string): PayloadCommand => ({ line: `del ssl crt-list ${containerCrtListPath} ${containerCertPath(name)}`, success: 'deleted' });
export const delCert = (name: string): PayloadCommand => ({ line: `del ssl cert ${containerCertPath(name)}`, success: 'deleted' });

/** The paths `show ssl cert` lists (loaded certificates). */
export function parseCertList(reply: string): string[] {
  return reply.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/** The `SHA1 FingerPrint:` of `show ssl cert <path>`, or undefined. */
export function parseCertFingerprint(reply: string): string | undefined {
  return /^SHA1 FingerPrint:\s*([0-9A-Fa-f]+)/m.exec(reply)?.[1]?.toUpperCase();
}

/** Issuer and end date from a `show ssl cert <path>` reply (HAProxy prints `Issuer:` and `notAfter:`). */
export function parseCertSummary(reply: string): { issuer?: string; notAfter?: string } {
  const issuer = /^Issuer:\s*(.+)$/m.exec(reply)?.[1]?.trim();
  const end = /^not ?After:\s*(.+)$/im.exec(reply)?.[1]?.trim();
  const when = end ? new Date(end) : undefined;
  return { ...(issuer ? { issuer } : {}), ...(when && !Number.isNaN(when.getTime()) ? { notAfter: when.toISOString() } : {}) };
}

/** The certificate files a `show ssl crt-list <list>` reply names (first word of each entry). */
export function parseCrtListEntries(reply: string): string[] {
  return reply.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(/\s+/)[0]!);
}

/** What one name needs on the running proxy: new (not loaded), renew (set + commit), or nothing. */
export type CertificateStep = 'add' | 'renew' | 'none';

/**
 * The running proxy's copy is compared whole: HAProxy's runtime API shows the leaf's fingerprint
 * but of the chain only subjects and issuers (a re-issued intermediate with the same names looks
 * the same), so the file on disk stands for the rest. It is written only after the running proxy
 * took the same bytes (installCertificate), so a file equal to ours means the proxy holds ours,
 * chain included; a file that differs (a chain-only change, or an install cut short) sends it.
 */
export function certificateStep(s: { loaded: boolean; fileMatches: boolean; servedFingerprint?: string; fingerprint: string }): CertificateStep {
  if (!s.loaded) return 'add';
  return s.fileMatches && s.servedFingerprint === s.fingerprint ? 'none' : 'renew';
}

/** The temporary name a certificate is written under before the rename makes it current. */
export const pendingCertFile = (name: string): string => `.${name}.pem.tmp`;

/**
 * The rename that makes a written certificate current (atomic: a proxy starting meanwhile reads the
 * old file or the new one), and the removal: both need only the directory's write permission,
 * which the SSH user has (the docker group's 2770 directory), not the file's.
 */
export function commitCertFileCommand(name: string, hostDir: string = PROXY_HOST_DIR): ShellCommand {
  const dir = certsHostDir(hostDir);
  return { command: `mv -f ${shellQuote(`${dir}/${pendingCertFile(name)}`)} ${shellQuote(`${dir}/${name}.pem`)}` };
}

export function removeCertFileCommand(name: string, hostDir: string = PROXY_HOST_DIR): ShellCommand {
  const dir = certsHostDir(hostDir);
  return { command: `rm -f ${shellQuote(`${dir}/${name}.pem`)} ${shellQuote(`${dir}/${pendingCertFile(name)}`)}` };
}

/** `uid:gid` of the proxy container's `User` (container.ts always sets both). */
export function parseContainerUser(user: string | undefined): { uid: number; gid: number } | undefined {
  const m = /^(\d+):(\d+)$/.exec(user ?? '');
  return m ? { uid: Number(m[1]), gid: Number(m[2]) } : undefined;
}
