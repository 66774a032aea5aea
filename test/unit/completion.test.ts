// Shell completion: the generator covers every command and flag of the real program (walked
// here with commander's own lists, not the generator's), and the bash script really completes
// in bash: commands, subcommands, flags, and role, host and accessory names from a config in a
// temp dir (via the hidden `__complete`, run from source), honouring -c and -d on the line.
// zsh runs the same function through bashcompinit; fish gets its own rules: both are run for
// real when the shell is installed, and at least rendered otherwise.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { completionSpec } from '../../src/cli/completion/spec.js';
import { bashScript, completionScript, fishScript, SHELLS } from '../../src/cli/completion/scripts.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const program = buildProgram(async () => 0);
const spec = completionSpec(program);

/** Every (path, flag) of the program, from commander's lists; hidden commands left out. */
function everyFlag(cmd: Command, path: string[] = []): Array<{ path: string; flag: string }> {
  const own = cmd.options.flatMap((o) => [o.short, o.long].filter((n): n is string => !!n).map((flag) => ({ path: path.join(' '), flag })));
  const subs = cmd.commands.filter((c) => !c.name().startsWith('__')).flatMap((c) => everyFlag(c, [...path, c.name()]));
  return [...own, ...subs];
}
function everyCommand(cmd: Command, path: string[] = []): string[][] {
  return cmd.commands.filter((c) => !c.name().startsWith('__')).flatMap((c) => [[...path, c.name()], ...everyCommand(c, [...path, c.name()])]);
}

describe('the generator', () => {
  test('every command and subcommand of the program is in the spec, and no hidden one', () => {
    const all = everyCommand(program);
    expect(all.length).toBeGreaterThan(25);
    const specPaths = spec.commands.map((c) => c.path.join(' '));
    for (const path of all) {
      expect(specPaths).toContain(path.join(' '));
      const parent = spec.commands.find((c) => c.path.join(' ') === path.slice(0, -1).join(' '))!;
      expect(parent.subcommands.map((s) => s.name)).toContain(path[path.length - 1]);
    }
    expect(JSON.stringify(spec)).not.toContain('__complete');
  });

  test('every flag of every command is offered at its path, in all three scripts', () => {
    const flags = everyFlag(program);
    expect(flags.length).toBeGreaterThan(60);
    const bash = bashScript(spec);
    const fish = fishScript(spec);
    for (const { path, flag } of flags) {
      const cmd = spec.commands.find((c) => c.path.join(' ') === path)!;
      const names = [...cmd.flags, ...spec.globalFlags].flatMap((f) => f.names);
      expect(names, `${path} ${flag}`).toContain(flag);
      // bash: the path's own line lists it, or it is global (printed for every path).
      const line = bash.split('\n').find((l) => l.startsWith(`    "${path}") echo "-`)) ?? '';
      const globalLine = bash.split('\n').find((l) => l.startsWith('  echo "-c'))!;
      expect(`${line} ${globalLine}`.split(/[\s"]+/), `${path} ${flag}`).toContain(flag);
      const fishFlag = flag.startsWith('--') ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`;
      expect(fish.split('\n').some((l) => l.includes(fishFlag) && (path === '' || l.includes(`_gangway_at "${path}"`) || !l.includes(' -n '))), `fish ${path} ${flag}`).toBe(true);
    }
  });

  test('value kinds: --role roles, --host hosts, -c files, accessory NAME accessories, completion SHELL its choices', () => {
    const at = (p: string) => spec.commands.find((c) => c.path.join(' ') === p)!;
    const kind = (p: string, flag: string) => [...at(p).flags, ...spec.globalFlags].find((f) => f.names.includes(flag))!.value;
    expect([kind('logs', '--role'), kind('logs', '--host'), kind('logs', '--grep'), kind('logs', '-f'), kind('deploy', '-c'), kind('deploy', '-d')]).toEqual(['roles', 'hosts', 'text', 'none', 'files', 'destinations']);
    expect(at('accessory logs').argument).toBe('accessories');
    expect(at('completion').choices).toEqual([...SHELLS]);
    expect(kind('verify', '--junit')).toBe('files');
    expect([...at('verify').flags].find((f) => f.names.includes('--junit'))!.optionalValue).toBe(true);
  });
});

// A project with roles web and jobs on vm1/vm2/vm3, an accessory on db1, and a staging overlay
// that adds a role; `gangway` on PATH is the CLI from source.
let dir: string;
let binDir: string;
const env = () => ({ PATH: `${binDir}:${process.env.PATH}`, HOME: dir, NO_COLOR: '1' });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gangway-completion-'));
  binDir = join(dir, 'bin');
  execFileSync('mkdir', ['-p', binDir, join(dir, 'other')]);
  writeFileSync(join(binDir, 'gangway'), `#!/bin/sh\nexec "${join(ROOT, 'node_modules', '.bin', 'tsx')}" "${join(ROOT, 'test', 'unit', 'fixtures', 'gangway-from-source.ts')}" "$@"\n`);
  chmodSync(join(binDir, 'gangway'), 0o755);
  const config = (roles: string) => `service: shop\nimage: registry.example.com/acme/shop\nservers:\n${roles}\nproxy: { app_port: 80 }\n`;
  writeFileSync(join(dir, 'gangway.yml'), `${config('  web: { hosts: [vm1, vm2] }\n  jobs: { hosts: [vm3], cmd: [bin/jobs] }')}accessories:\n  pg: { image: postgres:16, host: db1 }\n`);
  writeFileSync(join(dir, 'gangway.staging.yml'), 'servers:\n  reports: { hosts: [vm9] }\n');
  writeFileSync(join(dir, 'other', 'alt.yml'), config('  api: { hosts: [alt1] }'));
}, 30_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Completes `line` (the cursor after its last word; a trailing space starts a new word) in a real
 * bash. Words are split as readline does with bash's default COMP_WORDBREAKS: "=" is a word.
 */
function bashComplete(line: string): string[] {
  const words = line.replace(/=/g, ' = ').split(/\s+/).filter(Boolean);
  if (line.endsWith(' ')) words.push('');
  const script = [
    `source ${join(dir, 'gangway.bash')}`,
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    `COMP_LINE='${line}'`,
    '_gangway',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { cwd: dir, env: env(), encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('bash, for real', () => {
  beforeAll(() => {
    const r = spawnSync(join(binDir, 'gangway'), ['completion', 'bash'], { cwd: dir, env: env(), encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    writeFileSync(join(dir, 'gangway.bash'), r.stdout);
  }, 30_000);

  test('commands, subcommands and flags', () => {
    expect(bashComplete('gangway ')).toEqual(expect.arrayContaining(['deploy', 'logs', 'accessory', 'completion', 'rollback']));
    expect(bashComplete('gangway ')).not.toContain('__complete');
    expect(bashComplete('gangway de')).toEqual(['deploy']);
    expect(bashComplete('gangway accessory ')).toEqual(['boot', 'help', 'logs', 'reboot', 'remove']);
    expect(bashComplete('gangway logs --')).toEqual(expect.arrayContaining(['--since', '--grep', '--lines', '--follow', '--ignore-case', '--role', '--host', '--json', '--config']));
    expect(bashComplete('gangway logs --gr')).toEqual(['--grep']);
    expect(bashComplete('gangway completion ')).toEqual(['bash', 'fish', 'zsh']);
  });

  test('role, host and accessory names from the config', () => {
    expect(bashComplete('gangway logs --role ')).toEqual(['jobs', 'web']);
    expect(bashComplete('gangway logs --since 10m --host ')).toEqual(['db1', 'vm1', 'vm2', 'vm3']);
    expect(bashComplete('gangway logs --host vm')).toEqual(['vm1', 'vm2', 'vm3']);
    expect(bashComplete('gangway accessory logs ')).toEqual(['pg']);
    expect(bashComplete('gangway -d ')).toEqual(['staging']);
  }, 60_000);

  test('-c and -d on the line are honoured; a broken config completes nothing and prints nothing', () => {
    expect(bashComplete('gangway -d staging logs --role ')).toEqual(['jobs', 'reports', 'web']);
    expect(bashComplete('gangway -c other/alt.yml logs --role ')).toEqual(['api']);
    expect(bashComplete('gangway --config=other/alt.yml logs --host ')).toEqual(['alt1']);
    expect(bashComplete('gangway -c missing.yml logs --role ')).toEqual([]);
    expect(bashComplete('gangway logs --role=')).toEqual(['jobs', 'web']);
  }, 60_000);
});

describe('__complete', () => {
  test('prints names one per line, and nothing at all on a bad config', () => {
    const run = (args: string[]) => spawnSync(join(binDir, 'gangway'), args, { cwd: dir, env: env(), encoding: 'utf8', timeout: 30_000 });
    expect(run(['__complete', 'hosts']).stdout).toBe('vm1\nvm2\nvm3\ndb1\n');
    writeFileSync(join(dir, 'broken.yml'), 'service: [\n');
    const broken = run(['-c', 'broken.yml', '__complete', 'roles']);
    expect([broken.stdout, broken.stderr]).toEqual(['', '']);
    expect(run(['--help']).stdout).not.toContain('__complete');
  }, 60_000);
});

const has = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;

describe.each(['zsh', 'fish'] as const)('%s', (shell) => {
  test.runIf(has(shell))('the script loads and completes a role name', () => {
    writeFileSync(join(dir, `gangway.${shell}`), completionScript(shell, spec));
    const script =
      shell === 'zsh'
        ? // zsh's completion system needs a terminal; the bridge function is called as compsys would.
          `autoload -U +X bashcompinit && bashcompinit; source ${join(dir, 'gangway.zsh')}; COMP_WORDS=(gangway logs --role ''); COMP_CWORD=3; _gangway; print -l -- "\${COMPREPLY[@]}"`
        : `source ${join(dir, 'gangway.fish')}; complete -C 'gangway logs --role '`;
    const r = spawnSync(shell, shell === 'zsh' ? ['-f', '-c', script] : ['--no-config', '-c', script], { cwd: dir, env: env(), encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n').map((l) => l.split('\t')[0]).filter(Boolean).sort()).toEqual(['jobs', 'web']);
  }, 60_000);
  test('the script renders', () => {
    expect(completionScript(shell, spec)).toContain('__complete');
  });
});
