// gangway/pebble: Debian's Pebble (a test ACME CA) and pebble-challtestsrv (its mock DNS) on
// scratch, with busybox sh and openssl for the entrypoint. Debian ships neither a config nor
// the certificate of Pebble's own HTTPS listener, so the entrypoint makes both at start: a key
// made at build time would be baked into a cached, shared image.
import { fileEntry, type ContextEntry, type ImageSpec } from '../image-spec.js';
import { binaryWithLibraries } from '../ldd.js';
import { BUSYBOX_SCRATCH_HEAD, busyboxFiles, minimalSystemFiles, ROOTFS } from './common.js';
import { BUSYBOX_BINARY } from './busybox.js';
import { readFile } from 'node:fs/promises';

export const PEBBLE_BINARY = '/usr/bin/pebble';
export const CHALLTESTSRV_BINARY = '/usr/bin/pebble-challtestsrv';
export const OPENSSL_BINARY = '/usr/bin/openssl';
export const PEBBLE_ENTRYPOINT = '/usr/local/bin/gangway-pebble';
/** Where the entrypoint leaves the listener's certificate (the one ACME clients must trust). */
export const PEBBLE_LISTENER_CERT = '/pebble/listener.pem';

export const PEBBLE_PORTS = { acme: 14000, management: 15000 } as const;
export const CHALLTESTSRV_PORTS = { dns: 8053, management: 8055 } as const;

export interface PebbleInputs {
  busybox: Buffer;
  /** pebble, pebble-challtestsrv and openssl, each with its libraries, under rootfs/. */
  binaryFiles: ContextEntry[];
}

/** Pebble's config file: listeners, the listener's key pair, and where it validates HTTP-01 (port 80). */
export function pebbleConfigJson(httpPort = 80): string {
  return `${JSON.stringify({
    pebble: {
      listenAddress: `0.0.0.0:${PEBBLE_PORTS.acme}`,
      managementListenAddress: `0.0.0.0:${PEBBLE_PORTS.management}`,
      certificate: PEBBLE_LISTENER_CERT,
      privateKey: '/pebble/listener.key',
      httpPort,
      tlsPort: 443,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
    },
  }, null, 2)}\n`;
}

// openssl req reads a config file even when every field is on its command line.
const OPENSSL_CONFIG = '[req]\ndistinguished_name = dn\n[dn]\n';

/**
 * The entrypoint: a fresh self-signed listener certificate for the names Pebble is reached by
 * (the `pebble` alias on the sandbox network, and loopback for the runner), then pebble with its
 * arguments.
 */
export function pebbleEntrypointScript(): string {
  return [
    '#!/bin/sh',
    'set -eu',
    'mkdir -p /pebble',
    'if [ ! -s /pebble/listener.key ]; then',
    '  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \\',
    '    -subj /CN=pebble -addext subjectAltName=DNS:pebble,DNS:localhost,IP:127.0.0.1 \\',
    `    -keyout /pebble/listener.key -out ${PEBBLE_LISTENER_CERT} 2>/dev/null`,
    'fi',
    `exec pebble -config /etc/pebble/config.json "$@"`,
    '',
  ].join('\n');
}

export function pebbleImage(inputs: PebbleInputs): ImageSpec {
  return {
    name: 'pebble',
    dockerfile: [
      ...BUSYBOX_SCRATCH_HEAD,
      'ENV PATH=/usr/local/bin:/usr/bin:/bin OPENSSL_CONF=/etc/ssl/openssl.cnf',
      `EXPOSE ${PEBBLE_PORTS.acme} ${PEBBLE_PORTS.management}`,
      `ENTRYPOINT ["${PEBBLE_ENTRYPOINT}"]`,
      '',
    ].join('\n'),
    context: [
      ...busyboxFiles(inputs.busybox),
      ...inputs.binaryFiles,
      fileEntry(`${ROOTFS}${PEBBLE_ENTRYPOINT}`, pebbleEntrypointScript(), 0o755),
      fileEntry(`${ROOTFS}/etc/pebble/config.json`, pebbleConfigJson()),
      fileEntry(`${ROOTFS}/etc/ssl/openssl.cnf`, OPENSSL_CONFIG),
      ...minimalSystemFiles(),
    ],
    smokeTest: {
      entrypoint: ['/bin/sh', '-c'],
      cmd: [`${CHALLTESTSRV_BINARY} -h 2>&1 | head -2; ${PEBBLE_BINARY} -h 2>&1 | head -2; openssl version`],
      expectOutput: /pebble-challtestsrv[\s\S]*-config[\s\S]*OpenSSL 3/,
    },
  };
}

export async function loadPebbleInputs(): Promise<PebbleInputs> {
  const binaryFiles = (await Promise.all([PEBBLE_BINARY, CHALLTESTSRV_BINARY, OPENSSL_BINARY].map((b) => binaryWithLibraries(b, ROOTFS)))).flat();
  return { busybox: await readFile(BUSYBOX_BINARY), binaryFiles: uniqueByPath(binaryFiles) };
}

/** Binaries share libc: one entry per path, or the tar holds the same file twice. */
export function uniqueByPath(entries: ContextEntry[]): ContextEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => (seen.has(e.path) ? false : (seen.add(e.path), true)));
}
