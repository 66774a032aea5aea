// command: run a shell command on the host; exit code, stdout and stderr.
import { z } from 'zod';
import { containsAll, expectation, itemSchema, matchesAll, num, oneOrMany, regexText, text, timeoutMs, type Resource } from './resource.js';

const commandSchema = itemSchema('command', z.string().min(1).describe('Shell command (sh -c), run with stdin from /dev/null.'), {
  exit_code: z.int().min(0).max(255).default(0),
  stdout: oneOrMany().optional().describe('Text stdout contains.'),
  stdout_matches: oneOrMany(regexText).optional().describe('JavaScript regular expression(s) stdout matches.'),
  stderr: oneOrMany().optional(),
  stderr_matches: oneOrMany(regexText).optional(),
  timeout: timeoutMs.default(10_000).describe('Killed (exit 124) after this long.'),
});
export type CommandSpec = z.output<typeof commandSchema>;

const COMMAND_TIMED_OUT = 124;

export const commandResource: Resource<CommandSpec> = {
  type: 'command',
  schema: commandSchema,
  description: 'A shell command: exit code, stdout and stderr contents.',
  subject: (s) => s.command,
  evaluate(spec, facts) {
    const code = num(facts.exit_code);
    const stdout = text(facts.stdout);
    const stderr = text(facts.stderr);
    const observedCode = code === undefined ? '(none)' : code === COMMAND_TIMED_OUT ? `${code} (timed out after ${spec.timeout} ms?)` : String(code);
    return [
      expectation('exit code', String(spec.exit_code), observedCode, code === spec.exit_code),
      ...containsAll('stdout', spec.stdout ?? [], stdout),
      ...matchesAll('stdout', spec.stdout_matches ?? [], stdout),
      ...containsAll('stderr', spec.stderr ?? [], stderr),
      ...matchesAll('stderr', spec.stderr_matches ?? [], stderr),
    ];
  },
};
