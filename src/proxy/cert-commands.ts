// Runtime-API lines that put certificates into a running HAProxy (pure): a new name is `new ssl
// cert`, `set ssl cert` (the PEM as the command's payload), `commit ssl cert`, `add ssl crt-list`;
// a renewal is set + commit. No reload, so no connection is touched. Payloads travel over the
// admin socket, never in a command line; HAProxy ends a payload at its first empty line, so a PEM
// is sent without blank lines.
import { X509Certificate } from 'node:crypto';
import { shellQuote, type ShellCommand } from '../state/shell.js';
import { CERTS_DIR, containerCertPath, containerCrtListPath, PROXY_CONTAINER_DIR, PROXY_CONTAINER_NAME } from './paths.js';

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

/** The certificate files a `show ssl crt-list <list>` reply names (first word of each entry). */
export function parseCrtListEntries(reply: string): string[] {
  return reply.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(/\s+/)[0]!);
}

/**
 * Writes certs/<name>.pem as the proxy's own uid, inside its container (`docker exec -i`, the PEM
 * on stdin): 0600, readable by HAProxy only, never in a command line.
 */
export function writeCertFileCommand(name: string, pem: string, container: string = PROXY_CONTAINER_NAME): ShellCommand {
  const dir = `${PROXY_CONTAINER_DIR}/${CERTS_DIR}`;
  const script = `umask 077 && cat > ${dir}/.${name}.pem.tmp && chmod 600 ${dir}/.${name}.pem.tmp && mv -f ${dir}/.${name}.pem.tmp ${dir}/${name}.pem`;
  return { command: `docker exec -i ${shellQuote(container)} sh -c ${shellQuote(script)}`, stdin: pem };
}

/** `<sha256>  <path>` per existing certs/*.pem, read as the proxy's uid (the files are its, 0600). */
export function hashCertFilesCommand(container: string = PROXY_CONTAINER_NAME): ShellCommand {
  return { command: `docker exec ${shellQuote(container)} sh -c ${shellQuote(`cd ${PROXY_CONTAINER_DIR}/${CERTS_DIR} && for f in *.pem; do [ -e "$f" ] && sha256sum "$f"; done; true`)}` };
}

/** Hash by certificate name from hashCertFilesCommand's output. */
export function parseCertHashes(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^([0-9a-f]{64})\s+\*?(\S+)\.pem$/.exec(line.trim());
    if (m) out.set(m[2]!, m[1]!);
  }
  return out;
}

export function removeCertFileCommand(name: string, container: string = PROXY_CONTAINER_NAME): ShellCommand {
  return { command: `docker exec ${shellQuote(container)} rm -f ${shellQuote(`${PROXY_CONTAINER_DIR}/${CERTS_DIR}/${name}.pem`)}` };
}
