// mount: /proc/mounts read once per script; each check walks its lines with `read` and keeps
// the last one for its mount point (the mount on top wins). Mount points are compared in the
// file's own escaped form (\040 for a space).
import { escapeMountPath, type MountSpec } from '../resources/mount.js';
import { q, type Probe } from './probe.js';

export const mountProbe: Probe<MountSpec> = {
  type: 'mount',
  // Read with builtins: /proc/mounts is a seq_file, which answers byte-sized reads correctly.
  prelude: () => "_mt=; while IFS= read -r l; do _mt=\"$_mt$l$_nl\"; done </proc/mounts",
  shell(spec) {
    return [
      `mp=${q(escapeMountPath(spec.mount))}; ms=; mt=; mo=; mf=false`,
      'while read -r s m t o rest; do [ "$m" = "$mp" ] && { ms=$s; mt=$t; mo=$o; mf=true; }; done <<EOF_MOUNT',
      '$_mt',
      'EOF_MOUNT',
      `if [ "$mf" = true ]; then printf '{"mounted":true,"source":'; _s "$ms"; printf ',"fstype":'; _s "$mt"; printf ',"options":'; _s "$mo"; printf '}'; else printf '{"mounted":false}'; fi`,
    ].join('\n');
  },
};
