// Pieces every FROM scratch image needs: users for tools that look them up, a writable /tmp.
import { dirEntry, fileEntry, type ContextEntry } from '../image-spec.js';

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
