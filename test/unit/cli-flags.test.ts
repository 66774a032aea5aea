// Every command and flag the README and docs/*.md document is registered with commander: a
// documented flag that was never registered exits 2 "unknown option" (rollback --lock-wait did).
// The docs are read as a user reads them: `gangway <command> [flags]` in code, and the README's
// table of commands. Nothing runs: the program is built with a runner that only records.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, type CommandRunner } from '../../src/cli/main.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const DOC_FILES = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** A piece of code in a markdown file: a fenced block's line, an inline span, or a README table command. */
interface CodeText { file: string; line: number; text: string }

/** Pure: the code of a markdown text. A first-column span of the table under "## Commands" gets "gangway " in front. */
function codeTexts(file: string, md: string): CodeText[] {
  const out: CodeText[] = [];
  let fenced = false;
  let section = '';
  md.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (/^\s*```/.test(raw)) { fenced = !fenced; return; }
    if (fenced) {
      // An indented line of options continues the synopsis above it (docs/release.md).
      const last = out[out.length - 1];
      if (last && last.line === line - 1 && /^\s+\[/.test(raw)) last.text += ` ${raw.trim()}`;
      else out.push({ file, line, text: raw });
      return;
    }
    if (raw.startsWith('#')) section = raw.replace(/^#+\s*/, '');
    const commandTable = section === 'Commands' && raw.startsWith('| `');
    const firstCell = commandTable ? raw.slice(1, raw.search(/[^\\]\|/) + 1) : '';
    for (const m of raw.matchAll(/`([^`]+)`/g)) {
      const inFirstCell = commandTable && m.index! < firstCell.length + 1;
      out.push({ file, line, text: inFirstCell ? `gangway ${m[1]!}` : m[1]! });
    }
  });
  return out;
}

interface DocumentedFlag { where: string; command: string[]; flag: string }

const clean = (token: string) => token.replace(/^[[(]+/, '').replace(/[\]),]+$/, '');
const FLAG_RE = /^--?[A-Za-z][\w-]*/;

/** Pure: the commands and flags one piece of code documents; `unknown` gets command words that are not commands. */
function documentedFlags(code: CodeText, program: Command, unknown: string[] = []): DocumentedFlag[] {
  const tokens = code.text.replace(/\\\|/g, '|').split(/\s+/).filter(Boolean);
  const out: DocumentedFlag[] = [];
  const where = `${code.file}:${code.line}`;
  tokens.forEach((token, start) => {
    if (token !== 'gangway') return;
    let i = start + 1;
    // Global options may come first: gangway --json verify, gangway -c x.yml deploy.
    for (; i < tokens.length && FLAG_RE.test(clean(tokens[i]!)); i++) {
      const flag = FLAG_RE.exec(clean(tokens[i]!))![0];
      out.push({ where, command: [], flag });
      const option = program.options.find((o) => o.long === flag || o.short === flag);
      if (option && (option.required || option.optional) && !tokens[i]!.includes('=')) i++;
    }
    // The command path, a word at a time: `lock release`, `accessory boot|reboot NAME`.
    let paths: string[][] = [[]];
    let current: Command[] = [program];
    for (; i < tokens.length; i++) {
      const word = clean(tokens[i]!);
      if (word === '<command>') { current = []; i++; break; }
      const alternatives = word.split('|');
      const found = alternatives.map((w) => current[0]?.commands.find((c) => c.name() === w));
      if (found.length === 0 || found.some((c) => c === undefined)) break;
      paths = paths.flatMap((p) => alternatives.map((w) => [...p, w]));
      current = found as Command[];
    }
    if (paths[0]!.length === 0 && current.length === 1 && i < tokens.length && /^[a-z]/.test(clean(tokens[i]!))) unknown.push(`${where}: gangway ${clean(tokens[i]!)}`);
    // Inside [ ] a "|" separates alternatives ([--version V | --image REF]); outside, it is a pipe.
    let depth = 0;
    for (; i < tokens.length; i++) {
      const token = tokens[i]!;
      if (token.startsWith('#') || ['&&', '||', ';', '>'].includes(token) || (token === '|' && depth === 0)) break;
      depth += (token.match(/\[/g) ?? []).length - (token.match(/\]/g) ?? []).length;
      for (const part of clean(token).split('|')) {
        const m = FLAG_RE.exec(clean(part));
        if (m) for (const path of current.length === 0 ? [[]] : paths) out.push({ where, command: path, flag: m[0] });
      }
    }
  });
  return out;
}

const recorded: Array<{ file: string; fn: string; args: unknown[]; opts: Record<string, unknown> }> = [];
const recorder: CommandRunner = async (file, fn, _globals, args, opts) => {
  recorded.push({ file, fn, args, opts });
  return 0;
};

function commandAt(program: Command, path: string[]): Command | undefined {
  let cmd: Command | undefined = program;
  for (const name of path) cmd = cmd?.commands.find((c) => c.name() === name);
  return cmd;
}

/** The flags a command accepts: its own, the program's (commander reads them anywhere), help. */
function accepted(program: Command, cmd: Command): Set<string> {
  const flags = new Set(['-h', '--help']);
  const add = (options: readonly Option[]) => { for (const o of options) { if (o.long) flags.add(o.long); if (o.short) flags.add(o.short); } };
  add(cmd.options);
  add(program.options);
  return flags;
}

const program = buildProgram(recorder);
const unknownCommands: string[] = [];
const documented = DOC_FILES.flatMap((f) => codeTexts(f, readFileSync(join(root, f), 'utf8'))).flatMap((c) => documentedFlags(c, program, unknownCommands));
const table = [...new Map(documented.map((d) => [`${d.command.join(' ')} ${d.flag}`, d])).values()];

describe('every documented flag is registered', () => {
  it('the docs document the commands of this issue (the table is not empty by accident)', () => {
    const keys = table.map((d) => `${d.command.join(' ')} ${d.flag}`);
    for (const k of ['rollback --lock-wait', 'rollback --dry-run', 'setup --dry-run', 'deploy --lock-wait', 'verify --junit', 'verify --tap', 'release --dry-run', ' --json']) expect(keys).toContain(k);
    expect(table.length).toBeGreaterThan(40);
  });

  it('every `gangway WORD` in the docs names a command', () => {
    expect(unknownCommands).toEqual([]);
  });

  it.each(table.map((d) => [d.command.join(' ') || '(global)', d.flag, d.where] as const))('gangway %s %s (%s)', (path, flag) => {
    const cmd = commandAt(program, path === '(global)' ? [] : path.split(' '));
    expect(cmd, `command ${path}`).toBeDefined();
    expect([...accepted(program, cmd!)]).toContain(flag);
  });
});

describe('the flags reach the command as the code reads them', () => {
  const parse = async (argv: string[]) => {
    recorded.length = 0;
    await buildProgram(recorder).parseAsync(['node', 'gangway', ...argv]);
    return recorded[0]!;
  };

  it('rollback --lock-wait, --dry-run, -m', async () => {
    const call = await parse(['rollback', '1.2.0', '--lock-wait', '30s', '--dry-run', '-m', 'back']);
    expect(call).toMatchObject({ file: 'rollback', args: ['1.2.0'], opts: { lockWait: '30s', dryRun: true, message: 'back' } });
  });

  it('setup --dry-run, --lock-wait, --version', async () => {
    const call = await parse(['setup', '--version=1.0.0', '--dry-run', '--lock-wait', '1m']);
    expect(call).toMatchObject({ file: 'setup', opts: { version: '1.0.0', dryRun: true, lockWait: '1m' } });
  });

  it('an undocumented flag is still refused (exit 2 in main)', async () => {
    await expect(parse(['rollback', '--no-such-flag'])).rejects.toMatchObject({ code: 'commander.unknownOption' });
  });
});
