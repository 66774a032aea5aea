// env-files: one stat over the folder's *.env files.
import { ENV_DIR } from '../../app/env-file.js';
import type { EnvFilesSpec } from '../resources/env-files.js';
import { q, type Probe } from './probe.js';

export const envFilesProbe: Probe<EnvFilesSpec> = {
  type: 'env-files',
  shell() {
    const dir = q(ENV_DIR);
    return [
      `dm=; fl=; if [ -d ${dir} ]; then dm=$(stat -c %a ${dir} 2>/dev/null); fl=$(stat -c '%a %n' ${dir}/*.env 2>/dev/null); fi`,
      `printf '{"dir":'; _s "$dm"; printf ',"files":'; _s "$fl"; printf '}'`,
    ].join('\n');
  },
};
