// The completion scripts, rendered from a CompletionSpec. bash reads the line itself and asks
// `gangway __complete <kind>` for names from the config; zsh runs the same function through
// its bashcompinit; fish gets native `complete` rules (with descriptions) over the same tables.
import { NAME_KINDS, flagsAt, type CompletionSpec, type CommandSpec, type FlagSpec } from './spec.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const key = (c: CommandSpec): string => c.path.join(' ');
/** A name safe in the generated functions (the program's name may hold "-" or "."). */
const ident = (program: string): string => `_${program.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** Flags whose next word is their value, at one path (an optional value never is: `--junit` alone is valid). */
const valued = (flags: FlagSpec[]): FlagSpec[] => flags.filter((f) => f.value !== 'none' && !f.optionalValue);

function bashFunctions(spec: CompletionSpec): string {
  const fn = ident(spec.program);
  const subs = spec.commands.filter((c) => c.subcommands.length > 0).map((c) => `    "${key(c)}") echo "${c.subcommands.map((s) => s.name).join(' ')}" ;;`);
  const flags = spec.commands.filter((c) => c.flags.length > 0).map((c) => `    "${key(c)}") echo "${c.flags.flatMap((f) => f.names).join(' ')}" ;;`);
  const globals = spec.globalFlags.flatMap((f) => f.names).join(' ');
  const values = spec.commands.flatMap((c) => valued(c.flags).map((f) => `    ${f.names.map((n) => `"${key(c)}|${n}"`).join('|')}) echo ${f.value} ;;`));
  const globalValues = valued(spec.globalFlags).map((f) => `    ${f.names.map((n) => `*"|${n}"`).join('|')}) echo ${f.value} ;;`);
  const args = spec.commands.filter((c) => (NAME_KINDS as readonly string[]).includes(c.argument) || c.argument === 'choices').map((c) => `    "${key(c)}") echo ${c.argument} ;;`);
  const choices = spec.commands.filter((c) => c.choices).map((c) => `    "${key(c)}") echo "${c.choices!.join(' ')}" ;;`);
  const kinds = [...new Set(spec.commands.flatMap((c) => valued(flagsAt(spec, c)).map((f) => f.value)))].join(', ');
  return [
    caseFunction(`${fn}_subcommands`, '$1', subs),
    caseFunction(`${fn}_flags`, '$1', flags, `  echo "${globals}"\n`),
    `# What the value after a flag is at a path: ${kinds}.\n${caseFunction(`${fn}_flag_value`, '$1|$2', [...values, ...globalValues])}`,
    caseFunction(`${fn}_argument`, '$1', args),
    caseFunction(`${fn}_choices`, '$1', choices),
  ].join('\n\n');
}

/** A bash function that is one case statement over `subject` (then `after`). */
function caseFunction(name: string, subject: string, arms: string[], after = ''): string {
  return `${name}() {\n  case "${subject}" in\n${arms.join('\n')}\n  esac\n${after}}`;
}

/** bash (and zsh through bashcompinit): one function reads the line, tables say the rest. */
export function bashScript(spec: CompletionSpec): string {
  const fn = ident(spec.program);
  return `# ${spec.program} completion for bash (${spec.program} completion bash). Install:
#   echo 'source <(${spec.program} completion bash)' >> ~/.bashrc
# Commands and flags are this version's; role, host and accessory names come from the config
# (-c and -d on the line are honoured) each time you press Tab.

${bashFunctions(spec)}

${fn}_names() {
  local file="\${1:-}" dest="\${2:-}" kind="$3"
  file="\${file/#\\~/$HOME}"
  "\${COMP_WORDS[0]}" \${file:+--config "$file"} \${dest:+--destination "$dest"} __complete "$kind" 2>/dev/null
}

# words_at: the command path typed so far (never "path": zsh ties that name to $PATH).
${fn}() {
  [[ -n \${ZSH_VERSION-} ]] && emulate -L ksh
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" words_at="" file="" dest="" want="" kind="" w i
  local cword=$COMP_CWORD
  # --flag=value: bash splits it into --flag, =, value.
  if [[ $cur == "=" ]]; then cur=""; prev="\${COMP_WORDS[cword-1]}"
  elif (( cword >= 2 )) && [[ \${COMP_WORDS[cword-1]} == "=" ]]; then prev="\${COMP_WORDS[cword-2]}"
  else prev="\${COMP_WORDS[cword-1]}"; fi
  for (( i = 1; i < cword; i++ )); do
    w="\${COMP_WORDS[i]}"
    if [[ -n $want ]]; then
      [[ $w == "=" ]] && continue
      case $want in file) file=$w ;; destination) dest=$w ;; esac
      want=""
      continue
    fi
    case $w in
      --) break ;;
      -c|--config) want=file ;;
      -d|--destination) want=destination ;;
      --config=*) file=\${w#*=} ;;
      --destination=*) dest=\${w#*=} ;;
      -*) [[ -n $(${fn}_flag_value "$words_at" "\${w%%=*}") && $w != *=* ]] && want=skip ;;
      *) [[ " $(${fn}_subcommands "$words_at") " == *" $w "* ]] && words_at="\${words_at:+$words_at }$w" ;;
    esac
  done
  COMPREPLY=()
  if [[ $prev == -* ]]; then kind=$(${fn}_flag_value "$words_at" "$prev"); fi
  if [[ -z $kind && $cur != -* ]]; then
    local subs
    subs=$(${fn}_subcommands "$words_at")
    if [[ -n $subs ]]; then
      COMPREPLY=( $(compgen -W "$subs" -- "$cur") )
      return 0
    fi
    kind=$(${fn}_argument "$words_at")
  fi
  case $kind in
    roles|hosts|accessories|destinations)
      COMPREPLY=( $(compgen -W "$(${fn}_names "$file" "$dest" "$kind")" -- "$cur") ) ;;
    files) compopt -o filenames 2>/dev/null; COMPREPLY=( $(compgen -f -- "$cur") ) ;;
    dirs) compopt -o filenames 2>/dev/null; COMPREPLY=( $(compgen -d -- "$cur") ) ;;
    choices) COMPREPLY=( $(compgen -W "$(${fn}_choices "$words_at")" -- "$cur") ) ;;
    text) ;;
    *) [[ $cur == -* ]] && COMPREPLY=( $(compgen -W "$(${fn}_flags "$words_at")" -- "$cur") ) ;;
  esac
  return 0
}

complete -F ${fn} ${spec.program}
`;
}

/** zsh: the bash function under bashcompinit (zsh's own bridge), so both shells share one reading of the line. */
export function zshScript(spec: CompletionSpec): string {
  return `# ${spec.program} completion for zsh (${spec.program} completion zsh). Install:
#   echo 'source <(${spec.program} completion zsh)' >> ~/.zshrc   # after compinit
# It runs the bash completion through zsh's bashcompinit.
autoload -U +X compinit && { (( \${+_comps} )) || compinit; }
autoload -U +X bashcompinit && bashcompinit

${bashScript(spec).split('\n').filter((l) => !l.startsWith('#')).join('\n')}`;
}

/** fish single-quoted string. */
const fq = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fishFlag(f: FlagSpec, condition: string, program: string): string {
  const parts = [`complete -c ${program}`];
  if (condition) parts.push(`-n ${fq(condition)}`);
  for (const n of f.names) parts.push(n.startsWith('--') ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`);
  if (f.value === 'files' || f.value === 'dirs') parts.push('-r', '-F');
  else if ((NAME_KINDS as readonly string[]).includes(f.value)) parts.push('-x', `-a ${fq(`(${ident(program)}_names ${f.value})`)}`);
  else if (f.value === 'text') parts.push('-x');
  parts.push(`-d ${fq(f.description)}`);
  return parts.join(' ');
}

/** fish: native rules, one condition per command path. */
export function fishScript(spec: CompletionSpec): string {
  const fn = ident(spec.program);
  const p = spec.program;
  const subCases = spec.commands.filter((c) => c.subcommands.length > 0).map((c) => `        case ${fq(key(c))}\n            printf '%s\\n' ${c.subcommands.map((s) => fq(s.name)).join(' ')}`);
  const valueCases = [
    ...spec.commands.flatMap((c) => valued(c.flags).flatMap((f) => f.names.map((n) => fq(`${key(c)}|${n}`)))),
    ...valued(spec.globalFlags).flatMap((f) => f.names.map((n) => fq(`*|${n}`))),
  ];
  const rules: string[] = [];
  for (const c of spec.commands) {
    // Paths are command names (letters and "-"): safe in double quotes inside fq's single ones.
    const at = `${fn}_at "${key(c)}"`;
    for (const s of c.subcommands) rules.push(`complete -c ${p} -f -n ${fq(at)} -a ${fq(s.name)} -d ${fq(s.description)}`);
    for (const f of c.flags) rules.push(fishFlag(f, at, p));
    if ((NAME_KINDS as readonly string[]).includes(c.argument)) rules.push(`complete -c ${p} -f -n ${fq(at)} -a ${fq(`(${fn}_names ${c.argument})`)}`);
    else if (c.choices) rules.push(`complete -c ${p} -f -n ${fq(at)} -a ${fq(c.choices.join(' '))}`);
    else if (c.subcommands.length > 0 || c.argument === 'none') rules.push(`complete -c ${p} -f -n ${fq(at)}`);
  }
  for (const f of spec.globalFlags) rules.push(fishFlag(f, '', p));
  return `# ${p} completion for fish (${p} completion fish). Install:
#   ${p} completion fish > ~/.config/fish/completions/${p}.fish
# (rerun after upgrading ${p}). Role, host and accessory names come from the config (-c and -d
# on the line are honoured) each time you press Tab.

function ${fn}_subcommands
    switch $argv[1]
${subCases.join('\n')}
    end
end

function ${fn}_takes_value
    switch "$argv[1]|$argv[2]"
        case ${valueCases.join(' ')}
            return 0
    end
    return 1
end

# The command path typed so far, and -c/-d as typed: every word before the cursor.
function ${fn}_read
    set -g ${fn}_path ''
    set -g ${fn}_file ''
    set -g ${fn}_dest ''
    set -l want ''
    for w in (commandline -opc)[2..-1]
        if test -n "$want"
            test "$want" = file; and set -g ${fn}_file $w
            test "$want" = dest; and set -g ${fn}_dest $w
            set want ''
            continue
        end
        switch $w
            case -c --config
                set want file
            case '--config=*'
                set -g ${fn}_file (string replace -- '--config=' '' $w)
            case -d --destination
                set want dest
            case '--destination=*'
                set -g ${fn}_dest (string replace -- '--destination=' '' $w)
            case '-*'
                ${fn}_takes_value "$${fn}_path" $w; and set want skip
            case '*'
                if contains -- $w (${fn}_subcommands "$${fn}_path")
                    set -g ${fn}_path (string trim -- "$${fn}_path $w")
                end
        end
    end
end

function ${fn}_at
    ${fn}_read
    test "$${fn}_path" = "$argv[1]"
end

function ${fn}_names
    ${fn}_read
    set -l args
    test -n "$${fn}_file"; and set args $args --config $${fn}_file
    test -n "$${fn}_dest"; and set args $args --destination $${fn}_dest
    ${p} $args __complete $argv[1] 2>/dev/null
end

complete -c ${p} -e
${rules.join('\n')}
`;
}

export function completionScript(shell: Shell, spec: CompletionSpec): string {
  switch (shell) {
    case 'bash': return bashScript(spec);
    case 'zsh': return zshScript(spec);
    case 'fish': return fishScript(spec);
  }
}
