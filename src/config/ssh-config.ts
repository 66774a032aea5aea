// An OpenSSH client config file (~/.ssh/config) as gangway reads it: the `ssh-config` package
// parses the text; the values a host gets are computed here because gangway must say which
// line each came from, and the package's own compute() gives no lines (and by default runs the
// commands of `Match exec` lines and looks names up in DNS for CanonicalizeHostName).
import { parse, type Line } from 'ssh-config';
import { matchesPatternList } from '../hosts/host-patterns.js';

/** The directives gangway applies; every other one is ignored (docs/ssh.md). */
export const SSH_CONFIG_KEYS = ['hostname', 'user', 'port', 'identityfile', 'identitiesonly', 'proxyjump', 'serveraliveinterval'] as const;
export type SshConfigKey = (typeof SSH_CONFIG_KEYS)[number];

export interface SshConfigValue {
  value: string;
  file: string;
  line: number;
}

interface Directive {
  key: string;
  value: string;
  line: number;
}

interface Block {
  /** null: the directives before the first Host line, which apply to every host. */
  patterns: string[] | null;
  directives: Directive[];
}

export interface SshConfigFile {
  file: string;
  blocks: Block[];
  /** Include and Match lines: gangway does not follow them (said by `gangway config`). */
  unsupported: { directive: string; line: number }[];
}

type ParsedValue = Extract<Line, { param: string }>['value'];

function valueText(value: ParsedValue): string {
  return typeof value === 'string' ? value : value.map((v) => v.val).join(' ');
}

/**
 * The 1-based line of every directive, in the order the parser yields them (depth first), from
 * the whitespace each one keeps around it: the parser records no positions itself.
 */
function withLines(lines: readonly Line[], start: { at: number }, visit: (line: Line, lineNo: number) => void): void {
  for (const line of lines) {
    const lineNo = start.at + (line.before.match(/\n/g)?.length ?? 0);
    visit(line, lineNo);
    start.at = lineNo + (line.after.match(/\n/g)?.length ?? 0);
    if ('config' in line) withLines(line.config, start, visit);
  }
}

export function parseSshConfig(text: string, file: string): SshConfigFile {
  const blocks: Block[] = [{ patterns: null, directives: [] }];
  const unsupported: SshConfigFile['unsupported'] = [];
  // Directives under a Match block never apply here: they go to this sink.
  let current: Block | undefined = blocks[0];
  withLines(parse(text), { at: 1 }, (line, lineNo) => {
    if (!('param' in line)) return;
    const key = line.param.toLowerCase();
    if (key === 'host') {
      current = { patterns: valueText(line.value).split(/\s+/).filter(Boolean), directives: [] };
      blocks.push(current);
    } else if (key === 'match') {
      unsupported.push({ directive: 'Match', line: lineNo });
      current = undefined;
    } else if (key === 'include') {
      unsupported.push({ directive: 'Include', line: lineNo });
    } else {
      current?.directives.push({ key, value: valueText(line.value), line: lineNo });
    }
  });
  return { file, blocks, unsupported };
}

/**
 * What the file says for one host alias, as OpenSSH reads it: blocks in file order, the first
 * value obtained for a directive wins, except IdentityFile, whose values all apply in order.
 */
export function sshConfigFor(config: SshConfigFile, host: string): Partial<Record<SshConfigKey, SshConfigValue[]>> {
  const out: Partial<Record<SshConfigKey, SshConfigValue[]>> = {};
  for (const block of config.blocks) {
    if (block.patterns && !matchesPatternList(block.patterns, host)) continue;
    for (const d of block.directives) {
      if (!(SSH_CONFIG_KEYS as readonly string[]).includes(d.key)) continue;
      const key = d.key as SshConfigKey;
      const found = { value: d.value, file: config.file, line: d.line };
      if (key === 'identityfile') (out[key] ??= []).push(found);
      else out[key] ??= [found];
    }
  }
  return out;
}
