// command: runs under `timeout` when the host has it; stdout/stderr go to files in $_d and are
// sent back (capped, as hex so any byte survives) only when the check asks about them.
import type { CommandSpec } from '../resources/command.js';
import { q, type Probe } from './probe.js';

export const commandProbe: Probe<CommandSpec> = {
  type: 'command',
  needsTempDir: true,
  shell(spec) {
    const seconds = Math.max(1, Math.ceil(spec.timeout / 1000));
    const cmd = q(spec.command);
    const wantsOut = !!(spec.stdout?.length || spec.stdout_matches?.length);
    const wantsErr = !!(spec.stderr?.length || spec.stderr_matches?.length);
    return [
      `if command -v timeout >/dev/null 2>&1; then timeout ${seconds} sh -c ${cmd} >"$_d/o" 2>"$_d/e" </dev/null; else sh -c ${cmd} >"$_d/o" 2>"$_d/e" </dev/null; fi`,
      `printf '{"exit_code":%d' "$?"`,
      ...(wantsOut ? [`printf ',"stdout":'; _x "$_d/o"`] : []),
      ...(wantsErr ? [`printf ',"stderr":'; _x "$_d/e"`] : []),
      `printf '}'`,
    ].join('\n');
  },
};
