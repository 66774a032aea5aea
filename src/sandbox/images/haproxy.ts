// gangway/haproxy: Debian's HAProxy 2.6 on scratch, with the official image's config path and the
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

export function haproxyImage(inputs: HaproxyInputs): ImageSpec {
  return {
    name: 'haproxy',
    dockerfile: [
      'FROM scratch',
      `COPY ${ROOTFS}/ /`,
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      `CMD ["haproxy", "-f", "${HAPROXY_CONFIG_PATH}"]`,
      '',
    ].join('\n'),
    context: [
      ...inputs.binaryFiles,
      fileEntry(`${ROOTFS}${HAPROXY_CONFIG_PATH}`, DEFAULT_HAPROXY_CONFIG),
      dirEntry(`${ROOTFS}/run`),
      dirEntry(`${ROOTFS}/var/lib/haproxy`),
      symlinkEntry(`${ROOTFS}/var/run`, '/run'),
      ...minimalSystemFiles(),
    ],
    smokeTest: { entrypoint: [HAPROXY_BINARY], cmd: ['-v'], expectOutput: /HAProxy version 2\./ },
  };
}

export async function loadHaproxyInputs(binary = HAPROXY_BINARY): Promise<HaproxyInputs> {
  return { binaryFiles: await binaryWithLibraries(binary, ROOTFS) };
}
