// container: one `docker inspect` whose Go template prints exactly the facts needed, as JSON
// (Docker's `json` function does the escaping).
import type { ContainerSpec } from '../resources/container.js';
import { q, type Probe } from './probe.js';

const TEMPLATE =
  '{"running":{{json .State.Running}},"status":{{json .State.Status}},' +
  '"health":{{if .State.Health}}{{json .State.Health.Status}}{{else}}null{{end}},' +
  '"restarts":{{json .RestartCount}},"image":{{json .Config.Image}},"labels":{{json .Config.Labels}}}';

/** Prints {"docker":false}, {"inspect":null} or {"inspect":<template output>}. */
export function dockerInspectShell(kind: 'container' | 'image', name: string, template: string): string {
  return [
    `if command -v docker >/dev/null 2>&1; then j=$(docker ${kind} inspect --format ${q(template)} ${q(name)} 2>/dev/null)`,
    `  case $j in '{'*'}') printf '{"inspect":%s}' "$j";; *) printf '{"inspect":null}';; esac`,
    `else printf '{"docker":false}'; fi`,
  ].join('\n');
}

export const containerProbe: Probe<ContainerSpec> = {
  type: 'container',
  shell: (spec) => dockerInspectShell('container', spec.container, TEMPLATE),
};
