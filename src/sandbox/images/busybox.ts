// gangway/busybox: Debian's static busybox on scratch, the base of the example apps.
import { readFile } from 'node:fs/promises';
import { fileEntry, symlinkEntry, type ImageSpec } from '../image-spec.js';
import { minimalSystemFiles, ROOTFS } from './common.js';

export const BUSYBOX_BINARY = '/bin/busybox';

export interface BusyboxInputs {
  busybox: Buffer;
}

export function busyboxImage(inputs: BusyboxInputs): ImageSpec {
  return {
    name: 'busybox',
    dockerfile: [
      'FROM scratch',
      `COPY ${ROOTFS}/ /`,
      // Every applet as a symlink in /bin: sh, httpd, wget, nc...
      'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
      'CMD ["/bin/sh"]',
      '',
    ].join('\n'),
    context: [
      fileEntry(`${ROOTFS}/bin/busybox`, inputs.busybox, 0o755),
      // Scripts written for other images start with #!/usr/bin/env sh.
      symlinkEntry(`${ROOTFS}/usr/bin/env`, '/bin/busybox'),
      ...minimalSystemFiles(),
    ],
    smokeTest: { entrypoint: ['/bin/sh', '-c'], cmd: ['wget --help 2>&1 | head -1; httpd --help 2>&1 | head -1'], expectOutput: /BusyBox/ },
  };
}

export async function loadBusyboxInputs(binary = BUSYBOX_BINARY): Promise<BusyboxInputs> {
  return { busybox: await readFile(binary) };
}
