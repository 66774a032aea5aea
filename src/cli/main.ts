// The gangway command line. Command modules are imported only when their command runs, so
// `gangway --help` and `--version` stay fast (no dockerode/ssh2 load).
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import type { GlobalOptions } from './context.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

type Action = (opts: GlobalOptions, args: unknown[], cmdOpts: Record<string, unknown>) => Promise<number>;

function globals(program: Command): GlobalOptions {
  const o = program.opts<{ config: string; destination?: string; json?: boolean; verbose?: boolean }>();
  return { config: o.config, destination: o.destination, json: o.json, verbose: o.verbose };
}

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('gangway')
    .description('Ship containerized apps to your own servers with zero downtime.')
    .version(pkg.version, '-V, --version')
    .option('-c, --config <file>', 'config file', 'gangway.yml')
    .option('-d, --destination <name>', 'merge gangway.<name>.yml over the config')
    .option('--json', 'write one JSON event per line (NDJSON) to stdout')
    .option('--verbose', 'more output, stack traces on errors')
    .showHelpAfterError()
    .exitOverride();

  /** Registers a command whose implementation lives in ./commands/<file>.js. */
  const lazy = (cmd: Command, file: string, fn = 'run') => {
    cmd.action(async (...all: unknown[]) => {
      const self = all[all.length - 1] as Command;
      const args = all.slice(0, -2);
      const mod = (await import(`./commands/${file}.js`)) as Record<string, Action>;
      exitCode = await mod[fn]!(globals(program), args, self.opts());
    });
    return cmd;
  };

  lazy(program.command('init').description('scaffold gangway.yml, an uptests folder and .gangway/').option('--force', 'overwrite existing files'), 'init');
  lazy(program.command('config').description('print the resolved config (secrets redacted)'), 'config');

  const hosts = program.command('hosts').description('inspect the hosts');
  lazy(hosts.command('check').description('connect to every host: SSH round trip, Docker version, free disk'), 'hosts-check');

  const sandbox = program.command('sandbox').description('throwaway Docker-in-Docker hosts and a registry for tests and rehearsals');
  lazy(
    sandbox
      .command('up')
      .description('build (cached) and start the sandbox hosts and registry')
      .addOption(new Option('--hosts <n>', 'number of hosts').default('3'))
      .option('--out <dir>', 'where to write the sandbox config, key and known_hosts', '.gangway/sandbox'),
    'sandbox',
    'up',
  );
  lazy(sandbox.command('down').description('remove every sandbox container, network and volume (idempotent)'), 'sandbox', 'down');
  lazy(sandbox.command('status').description('list the sandbox hosts and registry'), 'sandbox', 'status');

  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    if (typeof e.exitCode === 'number') return 2;
    throw err;
  }
  return exitCode;
}
