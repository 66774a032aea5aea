// command: runs under `timeout` when the host has it, output captured to files in $_d and sent
// back (capped) as hex, so any byte survives the trip.
import type { CommandSpec } from '../resources/command.js';
import { q, type Probe } from './probe.js';

export const commandProbe: Probe<CommandSpec> = {
  type: 'command',
  needsTempDir: true,
  shell(spec) {
    const seconds = Math.max(1, Math.ceil(spec.timeout / 1000));
    const cmd = q(spec.command);
    return [
      'rm -f "$_d/o" "$_d/e"',
      `if command -v timeout >/dev/null 2>&1; then timeout ${seconds} sh -c ${cmd} >"$_d/o" 2>"$_d/e" </dev/null; else sh -c ${cmd} >"$_d/o" 2>"$_d/e" </dev/null; fi`,
      `printf '{"exit_code":%d,"stdout":' "$?"; _x "$_d/o"; printf ',"stderr":'; _x "$_d/e"; printf '}'`,
    ].join('\n');
  },
};
