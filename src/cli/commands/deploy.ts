// `gangway deploy`: see src/deploy/run.ts for what happens on the hosts.
import { runCommand, type GlobalOptions } from '../context.js';
import { deployCommand, type DeployFlags } from './deploy-common.js';

export async function run(globals: GlobalOptions, _args: unknown[], flags: DeployFlags): Promise<number> {
  return runCommand('deploy', globals, (ctx) => deployCommand(ctx, 'deploy', flags));
}
