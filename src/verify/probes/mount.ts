// mount: the last /proc/mounts line for the mount point (the one on top wins).
import { escapeMountPath, type MountSpec } from '../resources/mount.js';
import { q, type Probe } from './probe.js';

export const mountProbe: Probe<MountSpec> = {
  type: 'mount',
  shell(spec) {
    // Passed through the environment: awk -v would turn the \040 escapes back into spaces.
    return [
      `r=$(m=${q(escapeMountPath(spec.mount))} awk '$2 == ENVIRON["m"] { s = $1; t = $3; o = $4; f = 1 } END { if (f) print s " " t " " o }' /proc/mounts 2>/dev/null)`,
      'if [ -n "$r" ]; then',
      '  IFS=" " read -r ms mt mo <<EOF_MOUNT',
      '$r',
      'EOF_MOUNT',
      `  printf '{"mounted":true,"source":'; _s "$ms"; printf ',"fstype":'; _s "$mt"; printf ',"options":'; _s "$mo"; printf '}'`,
      `else printf '{"mounted":false}'; fi`,
    ].join('\n');
  },
};
