// What shell completion knows, read from the commander program itself (every visible command,
// subcommand and flag), so a completion script cannot drift from the CLI that prints it.
import type { Command } from 'commander';

/**
 * What a flag's value (or a command's argument) is: names from the config come from
 * `gangway __complete <kind>`; files and dirs from the shell; text is free; none takes no value.
 */
export type ValueKind = 'roles' | 'hosts' | 'accessories' | 'destinations' | 'files' | 'dirs' | 'choices' | 'text' | 'none';

/** The kinds the hidden `__complete` command answers. */
export const NAME_KINDS = ['roles', 'hosts', 'accessories', 'destinations'] as const;
export type NameKind = (typeof NAME_KINDS)[number];

export interface FlagSpec {
  /** -n and --lines, as typed. */
  names: string[];
  /** An optional value (`--junit [file]`) is never skipped as the flag's value when reading the line. */
  value: ValueKind;
  optionalValue: boolean;
  description: string;
}

export interface CommandSpec {
  /** Words from the program to the command ("" is the program itself). */
  path: string[];
  description: string;
  subcommands: Array<{ name: string; description: string }>;
  /** The command's own flags; `CompletionSpec.globalFlags` apply everywhere too. */
  flags: FlagSpec[];
  /** What its positional arguments complete to. */
  argument: ValueKind;
  /** The allowed values of an argument of kind `choices` (completion's shell). */
  choices?: string[];
}

export interface CompletionSpec {
  program: string;
  /** The program's flags that apply after any command (-c, -d, --json, --verbose, --help). */
  globalFlags: FlagSpec[];
  commands: CommandSpec[];
}

// By flag, whatever the command: a new --host anywhere completes host names with no edit here.
const FLAG_VALUES: Record<string, ValueKind> = {
  '--role': 'roles',
  '--host': 'hosts',
  '--config': 'files',
  '--file': 'files',
  '--junit': 'files',
  '--destination': 'destinations',
  '--out': 'dirs',
};

/** The accessory commands' NAME; any other argument is free text. */
function argumentKind(path: string[], cmd: Command): ValueKind {
  const args = cmd.registeredArguments;
  if (args.length === 0) return 'none';
  if (args[0]!.argChoices) return 'choices';
  return path[0] === 'accessory' && args[0]!.name() === 'name' ? 'accessories' : 'text';
}

function flagsOf(cmd: Command, keep: (long: string | undefined) => boolean = () => true): FlagSpec[] {
  return cmd
    .createHelp()
    .visibleOptions(cmd)
    .filter((o) => keep(o.long))
    .map((o) => {
      const takes = o.required || o.optional;
      return {
        names: [o.short, o.long].filter((n): n is string => !!n),
        value: takes ? (o.long ? FLAG_VALUES[o.long] : undefined) ?? 'text' : 'none',
        optionalValue: o.optional,
        description: o.description,
      };
    });
}

/** Pure: the tree of a program, depth first, hidden commands left out. */
export function completionSpec(program: Command): CompletionSpec {
  const commands: CommandSpec[] = [];
  const walk = (cmd: Command, path: string[]) => {
    const visible = cmd.createHelp().visibleCommands(cmd);
    commands.push({
      path,
      description: cmd.description(),
      subcommands: visible.map((c) => ({ name: c.name(), description: c.description() })),
      // The program's own flags are the global ones, except --version, which is only the program's.
      flags: path.length === 0 ? flagsOf(cmd, (l) => l === '--version') : flagsOf(cmd, (l) => l !== '--help'),
      argument: argumentKind(path, cmd),
      ...(cmd.registeredArguments[0]?.argChoices ? { choices: [...cmd.registeredArguments[0].argChoices] } : {}),
    });
    for (const sub of visible) if (sub.name() !== 'help' || cmd.commands.includes(sub)) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return { program: program.name(), globalFlags: flagsOf(program, (l) => l !== '--version'), commands };
}

/** Every flag that applies at a path: the command's, then the global ones. */
export function flagsAt(spec: CompletionSpec, command: CommandSpec): FlagSpec[] {
  return [...command.flags, ...spec.globalFlags];
}
