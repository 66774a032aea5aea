// image: docker image inspect with a template that prints the id and labels as JSON.
import type { ImageSpec } from '../resources/image.js';
import { dockerInspectShell } from './container.js';
import type { Probe } from './probe.js';

export const imageProbe: Probe<ImageSpec> = {
  type: 'image',
  shell: (spec) => dockerInspectShell('image', spec.image, '{"id":{{json .Id}},"labels":{{json .Config.Labels}}}'),
};
