// directory: the file probe's stat, nothing read inside.
import type { DirectorySpec } from '../resources/directory.js';
import { statPrelude, statShell } from './file.js';
import type { Probe } from './probe.js';

export const directoryProbe: Probe<DirectorySpec> = {
  type: 'directory',
  shell: (spec) => statShell('_std', spec.directory),
  prelude: (specs) => statPrelude('_std', specs.map((s) => s.directory)),
};
