// Pieces every FROM scratch image needs: users for tools that look them up, a writable /tmp.
import { dirEntry, fileEntry, symlinkEntry, type ContextEntry } from '../image-spec.js';

/** Files under this folder of the build context land at / in the image (COPY rootfs/ /). */
export const ROOTFS = 'rootfs';

export function minimalSystemFiles(): ContextEntry[] {
  return [
    fileEntry(`${ROOTFS}/etc/passwd`, 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n'),
    fileEntry(`${ROOTFS}/etc/group`, 'root:x:0:\nnogroup:x:65534:\n'),
    dirEntry(`${ROOTFS}/tmp`, 0o1777),
    dirEntry(`${ROOTFS}/root`, 0o700),
  ];
}

/** The head of a Dockerfile for a scratch image with busybox: the rootfs, then every applet linked in /bin. */
export const BUSYBOX_SCRATCH_HEAD = ['FROM scratch', `COPY ${ROOTFS}/ /`, 'RUN ["/bin/busybox", "--install", "-s", "/bin"]'];

/** busybox itself, and /usr/bin/env for scripts that start with #!/usr/bin/env sh. */
export const busyboxFiles = (busybox: Buffer): ContextEntry[] => [
  fileEntry(`${ROOTFS}/bin/busybox`, busybox, 0o755),
  symlinkEntry(`${ROOTFS}/usr/bin/env`, '/bin/busybox'),
];
