// The gangway command line. Command modules are imported only when their command runs, so
// `gangway --help` and `--version` stay fast (no dockerode/ssh2 load).
import { Argument, Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import type { GlobalOptions } from './context.js';
import { completionSpec } from './completion/spec.js';
import { completionScript, SHELLS, type Shell } from './completion/scripts.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

type Action = (opts: GlobalOptions, args: unknown[], cmdOpts: Record<string, unknown>) => Promise<number>;

function globals(program: Command): GlobalOptions {
  const o = program.opts<{ config: string; destination?: string; json?: boolean; verbose?: boolean }>();
  return { config: o.config, destination: o.destination, json: o.json, verbose: o.verbose };
}

/** What runs a command: the function `fn` of ./commands/<file>.js, given the parsed flags. */
export type CommandRunner = (file: string, fn: string, globals: GlobalOptions, args: unknown[], cmdOpts: Record<string, unknown>) => Promise<number>;

/** Imports the command's module only now, so --help and --version never load dockerode or ssh2. */
const importAndRun: CommandRunner = async (file, fn, globals, args, cmdOpts) => {
  const mod = (await import(`./commands/${file}.js`)) as Record<string, Action>;
  return mod[fn]!(globals, args, cmdOpts);
};

/** --message, --lock-wait and --dry-run: deploy, setup and rollback share them (deploy-common.ts reads them). */
function deployFamilyFlags(cmd: Command, dryRun: string): Command {
  return cmd
    .option('-m, --message <text>', 'note recorded in the lock and audit log')
    .option('--lock-wait <duration>', 'wait this long for a held lock (Ctrl-C while waiting exits 130)')
    .option('--dry-run', dryRun);
}

/** --since, --lines, --grep, --ignore-case: logs and accessory logs share them (log-flags.ts reads them). */
function logFilterFlags(cmd: Command): Command {
  return cmd
    .option('--since <when>', 'only lines since a duration ago (30s, 10m, 2h) or an RFC 3339 time')
    .option('-n, --lines <n>', 'the last N lines (of those that match --grep), or all', '100')
    .option('--grep <regex>', 'only lines that match this JavaScript regular expression')
    .option('-i, --ignore-case', 'match --grep regardless of case');
}

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(async (...call) => {
    exitCode = await importAndRun(...call);
    return exitCode;
  });
  try {
    await program.parseAsync(commandVersionFlags(argv, program.commands.map((c) => c.name())));
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    if (typeof e.exitCode === 'number') return 2;
    throw err;
  }
  return exitCode;
}

/**
 * Every command and flag, each command's action handed to `run`. Pure registration: tests read
 * the registered options from it, and parse argv with a runner that records instead of running.
 */
export function buildProgram(run: CommandRunner): Command {
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
      await run(file, fn, globals(program), args, self.opts());
    });
    return cmd;
  };

  lazy(program.command('init').description('scaffold gangway.yml, an uptests folder and .gangway/').option('--force', 'overwrite existing files'), 'init');
  lazy(program.command('config').description('print the resolved config (secrets redacted)'), 'config');

  const hosts = program.command('hosts').description('inspect the hosts');
  lazy(
    hosts
      .command('check')
      .description('connect to every host: SSH round trip, Docker version, free disk')
      .option('--run-container', 'also create, start, wait for and remove a container through the Docker API')
      .option('--image <ref>', 'image for --run-container (pulled when missing); it must have `true`'),
    'hosts-check',
  );

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
  lazy(
    sandbox
      .command('down')
      .description("remove the sandbox's containers, network and volumes (GANGWAY_SANDBOX_ID, default \"default\"; idempotent)")
      .option('--all', 'every sandbox on this engine, whatever its id (a bench or a parallel test run too)'),
    'sandbox',
    'down',
  );
  lazy(sandbox.command('status').description('list the sandbox hosts and registry'), 'sandbox', 'status');

  // Release (issue: release)
  lazy(
    program
      .command('build')
      .description('build the image from the config\'s build section and tag it <image>:<version>')
      .option('--version <v>', 'version (default: $GANGWAY_VERSION, else the git commit)')
      .option('--push', 'push <image>:<version> after building'),
    'build',
  );
  lazy(
    program
      .command('release')
      .description('tag <image>:<version> with semver aliases and push them')
      .option('--version <v>', 'version to release')
      .option('--semver', 'also tag the major.minor and major aliases')
      .option('--latest', 'also tag latest')
      .option('--precision <n>', 'keep at least N version parts')
      .option('--zero', 'tag a zero major alone (0)')
      .option('--tag <suffix>', 'suffix tags with -<suffix>')
      .option('--registry <r...>', 'retarget the image to these registries')
      .option('--image <i...>', 'images to release (default: the config image)')
      .option('--prerelease-moves-aliases', 'let a pre-release move floating tags (docker-ci-deploy behaviour)')
      .option('--force', 'move floating tags backwards, re-push a version with a new digest')
      .option('--dry-run', 'print the tag and push operations and do nothing else'),
    'release',
  );

  // Deploy (issue: deploy)
  lazy(
    deployFamilyFlags(
      program
        .command('setup')
        .description('prepare every host (Docker, network, accessories), then deploy')
        .option('--version <v>', 'version to deploy (default: $GANGWAY_VERSION, else the git commit)'),
      'print what each host would get (Docker steps, accessories) and the deploy plan, and do nothing',
    ),
    'setup',
  );
  lazy(
    deployFamilyFlags(
      program
        .command('deploy')
        .description('deploy a version to every host, gated on health checks and uptests')
        .option('--version <v>', 'version to deploy (default: $GANGWAY_VERSION, else the git commit)')
        .option('--canary', 'give the new version the canary steps\' shares of the traffic first, judged against the old one (config: canary)'),
      'print the plan and do nothing',
    ),
    'deploy',
  );
  lazy(
    deployFamilyFlags(
      program.command('rollback').argument('[version]', 'version to go back to (default: the previous one)').description('deploy a retained version again, gated like a deploy'),
      'print the version it would go back to and the plan, and do nothing',
    ),
    'rollback',
  );
  lazy(
    program
      .command('remove')
      .description('take the service (and -d destination) off its hosts: routes drained first, then containers, images and env files')
      .option('--role <role>', 'only this role')
      .option('--lock-wait <duration>', 'wait this long for a held lock')
      .option('-y, --yes', 'confirm: remove asks for nothing else and cannot be undone'),
    'remove',
  );
  lazy(program.command('status').description('per host and role: live version, proxy target, health, retained versions'), 'status');
  lazy(program.command('history').description('deploys recorded in the hosts\' audit logs'), 'audit', 'history');
  lazy(
    logFilterFlags(
      program
        .command('logs')
        .description('logs of the live containers, per host and role')
        .option('-f, --follow', 'keep printing new lines until the containers stop or Ctrl-C')
        .option('--role <role>', 'only this role')
        .option('--host <host>', 'only this host'),
    ),
    'logs',
  );
  lazy(
    program
      .command('exec')
      .description('run a command in a new container of the live version (or --reuse the running one)')
      .argument('<cmd...>', 'command (put -- before it when it has options: exec -- sh -c "...")')
      .option('-i, --interactive', 'an interactive session on one host: a PTY when stdin is a terminal, else stdin piped (docs/console.md)')
      .option('--reuse', 'exec in the running container')
      .option('--role <role>', 'role (default: primary)')
      .option('--host <host>', 'only this host'),
    'exec',
  );
  // Container tests (issue: container tests)
  lazy(
    program
      .command('test')
      .description('start the app\'s image on the local engine, wait for health, run every role\'s uptests as a deploy would')
      .option('--version <v>', 'test <config image>:<version> (default: $GANGWAY_VERSION, else the git commit)')
      .option('--image <ref>', 'test this image reference instead'),
    'test',
  );
  // Verify (issue: provision, verify, rehearse)
  lazy(
    program
      .command('verify')
      .description('check the hosts\' real state: the checks in verify: (or --file) and the built-in invariants')
      .option('-f, --file <file>', 'read the checks from this file instead of verify: in the config')
      .option('--junit [file]', 'write a JUnit XML report to the file (stdout without one)')
      .option('--tap', 'write a TAP report to stdout'),
    'verify',
  );
  // Accessories (issue: provision, verify, rehearse)
  const accessory = program.command('accessory').description('containers the app needs (database, cache) that deploys never touch');
  const accessoryCmd = (action: string, description: string) =>
    lazy(accessory.command(action).argument('<name>', action === 'logs' ? 'accessory name' : 'accessory name, or all').description(description).option('--host <host>', 'only this host'), 'accessory', action);
  accessoryCmd('boot', 'start the accessory where it is not running (created from the config when missing)');
  accessoryCmd('reboot', 'remove and boot again with the current config (data in directories and volumes is kept)');
  accessoryCmd('remove', 'stop and remove the accessory\'s container and env file (data is kept)');
  logFilterFlags(accessoryCmd('logs', 'the accessory\'s last log lines'));
  lazy(
    program
      .command('rehearse')
      .description('deploy to throwaway hosts twice (fresh, and as an upgrade of today\'s version), verify both, prove the same state')
      .option('--version <v>', 'the candidate version (default: $GANGWAY_VERSION, else the git commit)')
      .option('--from <v>', 'today\'s version (default: what the live hosts serve)')
      .option('--keep', 'leave both sandboxes running'),
    'rehearse',
  );
  const canary = program.command('canary').description('a canary deploy (deploy --canary), taken over by a person');
  lazy(canary.command('status').description('the traffic split and both versions\' figures on every host'), 'canary', 'status');
  lazy(canary.command('promote').description('give the new version all the traffic now, stop the old one'), 'canary', 'promote');
  lazy(canary.command('abort').description('give the old version all the traffic back, remove the new one (also after a killed deploy)'), 'canary', 'abort');
  const lock = program.command('lock').description('the deploy lock on the primary host');
  lazy(lock.command('status').description('who holds the lock, since when, for what'), 'lock', 'status');
  lazy(lock.command('release').description('release the lock (e.g. after a killed deploy)'), 'lock', 'release');
  // Shell completion (issue 18): the script is rendered from this very program, so it lists what
  // this version registers; `__complete` answers its questions about the config.
  program
    .command('completion')
    .description('print a completion script for bash, zsh or fish (install: docs/operations.md)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .action((shell: Shell) => { process.stdout.write(completionScript(shell, completionSpec(program))); });
  lazy(program.command('__complete', { hidden: true }).argument('<kind>', 'roles, hosts, accessories or destinations'), 'complete-names');
  lazy(program.command('audit').description('the audit log of every host').option('-n, --lines <n>', 'entries per host', '50'), 'audit');
  return program;
}

/**
 * `--version V` after a command (build, release, deploy) is that command's option, but commander
 * hands every `--version` to the program's own version flag; `--version=V` reaches the command.
 */
export function commandVersionFlags(argv: readonly string[], commandNames: readonly string[]): string[] {
  const out = [...argv];
  const command = out.findIndex((arg, i) => i >= 2 && commandNames.includes(arg));
  if (command < 0) return out;
  for (let i = command + 1; i < out.length - 1; i++) {
    if (out[i] === '--') break;
    if (out[i] === '--version' && !out[i + 1]!.startsWith('-')) out.splice(i, 2, `--version=${out[i + 1]}`);
  }
  return out;
}
