// gangway/acme: the renewal container's image. Debian's lego (the ACME client), socat (to speak to
// HAProxy's admin socket), openssl (a certificate's end date) and busybox (sh, sleep, date...) on scratch, with the system's CA bundle
// so lego trusts a public CA. The script it runs is gangway's (src/proxy/acme-container.ts), given
// at create time, so changing the script rebuilds nothing.
import { readFile } from 'node:fs/promises';
import { fileEntry, type ContextEntry, type ImageSpec } from '../image-spec.js';
import { binaryWithLibraries } from '../ldd.js';
import { BUSYBOX_SCRATCH_HEAD, busyboxFiles, minimalSystemFiles, ROOTFS } from './common.js';
import { BUSYBOX_BINARY } from './busybox.js';
import { OPENSSL_BINARY, uniqueByPath } from './pebble.js';

export const LEGO_BINARY = '/usr/bin/lego';
export const SOCAT_BINARY = '/usr/bin/socat';
export const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export interface AcmeImageInputs {
  busybox: Buffer;
  /** lego, socat and openssl, each with its libraries, under rootfs/. */
  binaryFiles: ContextEntry[];
  caBundle: Buffer;
}

export function acmeImage(inputs: AcmeImageInputs): ImageSpec {
  return {
    name: 'acme',
    dockerfile: [
      ...BUSYBOX_SCRATCH_HEAD,
      'ENV PATH=/usr/local/bin:/usr/bin:/bin',
      'CMD ["/bin/sh"]',
      '',
    ].join('\n'),
    context: [
      ...busyboxFiles(inputs.busybox),
      ...inputs.binaryFiles,
      fileEntry(`${ROOTFS}${CA_BUNDLE}`, inputs.caBundle),
      ...minimalSystemFiles(),
    ],
    smokeTest: {
      entrypoint: ['/bin/sh', '-c'],
      cmd: ['lego --version; socat -V | head -2; echo ping | socat - STDOUT; openssl version'],
      expectOutput: /lego version[\s\S]*socat version[\s\S]*ping[\s\S]*OpenSSL 3/,
    },
  };
}

export async function loadAcmeImageInputs(): Promise<AcmeImageInputs> {
  const binaryFiles = (await Promise.all([LEGO_BINARY, SOCAT_BINARY, OPENSSL_BINARY].map((b) => binaryWithLibraries(b, ROOTFS)))).flat();
  return { busybox: await readFile(BUSYBOX_BINARY), binaryFiles: uniqueByPath(binaryFiles), caBundle: await readFile(CA_BUNDLE) };
}
