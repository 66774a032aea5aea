// gangway/haproxy: Debian 12's HAProxy 2.6 on scratch (and gangway/haproxy-3.0, Debian 13's 3.0), with the official image's config path and the
// default command an image built from Debian's package has (a plain `haproxy -f`, not
// master-worker): gangway gives the proxy container its own command line, and every deploy test
// proves that on this image.
import { dirEntry, fileEntry, symlinkEntry, type ContextEntry, type ImageSpec } from '../image-spec.js';
import { binaryWithLibraries } from '../ldd.js';
import { minimalSystemFiles, ROOTFS } from './common.js';

export const HAPROXY_BINARY = '/usr/sbin/haproxy';
export const HAPROXY_CONFIG_PATH = '/usr/local/etc/haproxy/haproxy.cfg';

export interface HaproxyInputs {
  binaryFiles: ContextEntry[];
}

/** Placeholder config so the image starts on its own; deploys replace it. */
export const DEFAULT_HAPROXY_CONFIG = [
  'global',
  '  log stdout format raw local0',
  'defaults',
  '  mode http',
  '  timeout connect 5s',
  '  timeout client 30s',
  '  timeout server 30s',
  'frontend http',
  '  bind :80',
  '  http-request return status 503 content-type text/plain string "no app deployed\\n"',
  '',
].join('\n');

/** How both images end: the scratch image's own files, its PATH and its default command. */
const IMAGE_TAIL = [
  `COPY ${ROOTFS}/ /`,
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  `CMD ["haproxy", "-f", "${HAPROXY_CONFIG_PATH}"]`,
  '',
];

const imageFiles = (): ContextEntry[] => [
  fileEntry(`${ROOTFS}${HAPROXY_CONFIG_PATH}`, DEFAULT_HAPROXY_CONFIG),
  dirEntry(`${ROOTFS}/run`),
  dirEntry(`${ROOTFS}/var/lib/haproxy`),
  symlinkEntry(`${ROOTFS}/var/run`, '/run'),
  ...minimalSystemFiles(),
];

export function haproxyImage(inputs: HaproxyInputs): ImageSpec {
  return {
    name: 'haproxy',
    dockerfile: ['FROM scratch', ...IMAGE_TAIL].join('\n'),
    context: [...inputs.binaryFiles, ...imageFiles()],
    smokeTest: { entrypoint: [HAPROXY_BINARY], cmd: ['-v'], expectOutput: /HAProxy version 2\./ },
  };
}

/** Where the build's first stage gathers the binary and its libraries (see haproxy30Image). */
const STAGE_OUT = '/gangway-out';

/**
 * The binary and every library `ldd` lists, copied by content at their paths, as
 * binaryWithLibraries does on this machine for the 2.6 image, but inside the Debian 13 rootfs,
 * whose libraries are not this machine's.
 */
const COPY_WITH_LIBRARIES = [
  'set -e',
  `mkdir -p ${STAGE_OUT}/usr/sbin`,
  `cp ${HAPROXY_BINARY} ${STAGE_OUT}${HAPROXY_BINARY}`,
  `for lib in $(ldd ${HAPROXY_BINARY} | sed -n -e 's/.*=> \\(\\/[^ ]*\\).*/\\1/p' -e 's/^[[:space:]]*\\(\\/[^ ]*\\).*/\\1/p'); do mkdir -p "${STAGE_OUT}$(dirname "$lib")"; cp -L "$lib" "${STAGE_OUT}$lib"; done`,
].join('; ');

/**
 * gangway/haproxy-3.0: Debian 13's HAProxy 3.0 on scratch, the same layout and default command as
 * gangway/haproxy. The first stage is the debootstrapped trixie rootfs (rootfs.ts,
 * HAPROXY_30_ROOTFS); only the binary and its libraries leave it, so hosts pull a few MB, not a
 * Debian system. Its tag changes with the rootfs's (an extra input), i.e. with the mirror.
 */
export function haproxy30Image(input: { rootfsTag: string }): ImageSpec {
  return {
    name: 'haproxy-3.0',
    dockerfile: [
      `FROM ${input.rootfsTag} AS debian`,
      `RUN ${COPY_WITH_LIBRARIES}`,
      'FROM scratch',
      `COPY --from=debian ${STAGE_OUT}/ /`,
      ...IMAGE_TAIL,
    ].join('\n'),
    context: imageFiles(),
    extraInputs: { rootfs: input.rootfsTag },
    smokeTest: { entrypoint: [HAPROXY_BINARY], cmd: ['-v'], expectOutput: /HAProxy version 3\.0\./ },
  };
}

export async function loadHaproxyInputs(binary = HAPROXY_BINARY): Promise<HaproxyInputs> {
  return { binaryFiles: await binaryWithLibraries(binary, ROOTFS) };
}
