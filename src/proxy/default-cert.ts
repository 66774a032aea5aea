// The self-signed certificate every proxy starts with: HAProxy refuses an ssl bind with no
// certificate (measured on 2.6.12: "no SSL certificate specified for bind"), and the crt-list may
// hold no real name yet. Clients never trust it; it answers names no certificate covers.

export const DEFAULT_CERT_SUBJECT = 'gangway-default.invalid';

let made: Promise<string> | undefined;

/**
 * Chain then key in one PEM, as HAProxy loads it. Made once per process and handed to every host:
 * each proxy file write sends it (the host keeps the first one it got), and making one costs
 * ~10 ms of CPU (~24 ms in all) each time. Throwaway and trusted by no one, so one per command is
 * as good as one per host.
 */
export function defaultCertificatePem(): Promise<string> {
  made ??= makeDefaultCertificatePem().catch((err: unknown) => {
    made = undefined;
    throw err;
  });
  return made;
}

async function makeDefaultCertificatePem(): Promise<string> {
  // Imported here, not at the top: selfsigned (through @peculiar/x509) took ~55-70 ms of every
  // command's start-up (bench/cli-startup), and most commands never make a certificate.
  const { generate } = await import('selfsigned');
  // Long-lived, since nothing renews it (HAProxy would load it expired too).
  const notAfterDate = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: DEFAULT_CERT_SUBJECT }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notAfterDate });
  return `${pems.cert.trim()}\n${pems.private.trim()}\n`;
}
