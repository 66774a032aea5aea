// The self-signed certificate every proxy starts with: HAProxy refuses an ssl bind with no
// certificate (measured on 2.6.12: "no SSL certificate specified for bind"), and the crt-list may
// hold no real name yet. Clients never trust it; it answers names no certificate covers.
import { generate } from 'selfsigned';

export const DEFAULT_CERT_SUBJECT = 'gangway-default.invalid';

/** Chain then key in one PEM, as HAProxy loads it. EC P-256: generated in milliseconds. */
export async function defaultCertificatePem(): Promise<string> {
  // Written once per proxy and kept: long-lived, since nothing renews it (HAProxy would load it expired too).
  const notAfterDate = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: DEFAULT_CERT_SUBJECT }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notAfterDate });
  return `${pems.cert.trim()}\n${pems.private.trim()}\n`;
}
